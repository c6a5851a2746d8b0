"""Axis metadata boxes: pytree behaviour, unbox, add/remove axis, partition specs."""

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from flaxen import errors, struct
from flaxen.core import init, meta


def test_partitioned_is_pytree_of_its_value():
  box = meta.Partitioned(jnp.ones((2, 3)), ("a", None))
  leaves = jax.tree_util.tree_leaves(box)
  assert len(leaves) == 1
  doubled = jax.tree_util.tree_map(lambda x: x * 2, box)
  assert isinstance(doubled, meta.Partitioned) and doubled.names == ("a", None)
  assert float(doubled.value[0, 0]) == 2.0


def test_unbox_and_replace_boxed():
  tree = {"w": meta.Partitioned(jnp.ones(2), ("x",)), "b": jnp.zeros(2)}
  un = meta.unbox(tree)
  assert not meta.is_axis_metadata(un["w"]) and un["w"].shape == (2,)
  new = meta.replace_boxed(tree, {"w": jnp.full(2, 3.0), "b": jnp.ones(2)})
  assert new["w"].names == ("x",) and float(new["w"].value[0]) == 3.0


def test_add_remove_axis_roundtrip():
  box = meta.Partitioned(jnp.ones((2,)), ("x",))
  params = {meta.PARTITION_NAME: "layers"}
  added = meta.add_axis({"w": box}, 0, params)
  assert added["w"].names == ("layers", "x")
  assert meta.remove_axis(added, 0, params)["w"] == box
  with pytest.raises(errors.PartitioningUnspecifiedError):
    box.add_axis(0, {})


def test_with_partitioning_and_specs():
  init_fn = meta.with_partitioning(jax.nn.initializers.zeros, (None, "model"))
  box = init_fn(jax.random.PRNGKey(0), (2, 4))
  assert isinstance(box, meta.Partitioned) and box.names == (None, "model")
  specs = meta.get_partition_spec({"w": box, "b": jnp.zeros(3), "n": None})
  assert specs["w"] == P(None, "model") and specs["b"] == P()
  mesh = jax.make_mesh((1,), ("model",))
  shardings = meta.get_sharding({"w": box}, mesh)
  assert shardings["w"].spec == P(None, "model")


def test_param_boxes_are_stored_but_returned_unboxed():
  init_fn = meta.with_partitioning(jax.nn.initializers.ones, ("x",))

  def f(scope):
    w = scope.param("w", init_fn, (2,))
    raw = scope.param("r", init_fn, (2,), unbox=False)
    return w, raw

  (w, raw), v = init(f)(jax.random.PRNGKey(0))
  assert not meta.is_axis_metadata(w) and meta.is_axis_metadata(raw)
  assert isinstance(v["params"]["w"], meta.Partitioned)


def test_variable_setter_keeps_box():
  from flaxen.core import Scope

  s = Scope({"c": {"v": meta.Partitioned(jnp.zeros(2), ("x",))}}, mutable=True)
  var = s.variable("c", "v")
  var.value = jnp.ones(2)
  stored = s.get_variable("c", "v")
  assert isinstance(stored, meta.Partitioned) and float(stored.value[0]) == 1.0
  assert float(var.value[0]) == 1.0


# ---------------------------------------------------------------- global mesh, constraints

def _constraints(fn, *args):
  """The sharding_constraint equations of ``fn``'s jaxpr (top level)."""
  eqns = jax.make_jaxpr(lambda *a: fn(*a))(*args).jaxpr.eqns  # fresh trace each time
  return [e.params["sharding"] for e in eqns if e.primitive.name == "sharding_constraint"]


@pytest.fixture
def mesh():
  return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ("data", "model"))


def test_global_mesh_is_the_set_mesh_context(mesh):
  assert meta.get_global_mesh() is None and not meta.global_mesh_defined()
  with jax.set_mesh(mesh):
    got = meta.get_global_mesh()
    assert meta.global_mesh_defined()
    assert tuple(got.axis_names) == ("data", "model") and tuple(got.axis_sizes) == (2, 4)
  with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with mesh:  # the legacy context is not a global mesh (as in the reference)
      assert meta.get_global_mesh() is None


def test_partitioned_unbox_constrains_on_cpu(mesh):
  x = jnp.ones((8, 4))
  box = lambda v: meta.Partitioned(v, ("data", None)).unbox()
  assert _constraints(box, x) == []  # no mesh known: a no-op
  with jax.set_mesh(mesh):
    (sharding,) = _constraints(box, x)
    assert sharding.spec == P("data", None)
    assert jax.jit(box)(x).sharding.spec == P("data")
  (sharding,) = _constraints(lambda v: meta.Partitioned(v, (None, "model"), mesh=mesh).unbox(), x)
  assert sharding == NamedSharding(mesh, P(None, "model"))
  raw = meta.Partitioned(x, ("data", None)).unbox(apply_constraint=False)
  assert raw is x


class _Tagged(struct.PyTreeNode, meta.AxisMetadata):
  """A user's own box that decides its spec and sharding itself."""

  value: Any
  tag: str = struct.field(pytree_node=False)

  def unbox(self):
    return self.value

  def replace_boxed(self, val):
    return self.replace(value=val)

  def add_axis(self, index, params):
    return self

  def remove_axis(self, index, params):
    return self

  def get_partition_spec(self):
    return P(self.tag)

  def get_sharding(self, mesh):
    return NamedSharding(mesh, P(None, self.tag))


class _Plain(struct.PyTreeNode, meta.AxisMetadata):
  value: Any

  def unbox(self):
    return self.value

  def replace_boxed(self, val):
    return self.replace(value=val)

  def add_axis(self, index, params):
    return self

  def remove_axis(self, index, params):
    return self


def test_custom_boxes_use_their_own_methods(mesh):
  tree = {"m": _Tagged(jnp.ones((8, 4)), "data"), "p": _Plain(jnp.ones(3)), "a": jnp.ones(2),
          "n": None, "i": 3}
  # values from the reference: the box's methods; P() for arrays; None for the rest
  assert meta.get_partition_spec(tree) == {"m": P("data"), "p": None, "a": P(), "n": None,
                                           "i": None}
  sh = meta.get_sharding(tree, mesh)
  assert sh["m"] == NamedSharding(mesh, P(None, "data"))
  assert sh["a"] == NamedSharding(mesh, P()) and sh["p"] is None and sh["i"] is None


def test_add_axis_pads_and_remove_axis_checks_the_name():
  params = {meta.PARTITION_NAME: "L"}
  assert meta.Partitioned(1, ("a",)).add_axis(3, params).names == ("a", None, None, "L")
  assert meta.Partitioned(1, ("a",)).add_axis(0, {meta.PARTITION_NAME: None}).names == (None, "a")
  assert meta.Partitioned(1, ("a", "L")).remove_axis(-1, params).names == ("a",)
  with pytest.raises(AssertionError, match="named 'a'"):
    meta.Partitioned(1, ("a", "b")).remove_axis(0, params)


def test_unbox_strips_nested_boxes():
  inner = meta.Partitioned(jnp.ones(1), ("a",))
  out = meta.unbox({"w": meta.Partitioned(inner, ("b",))})
  assert isinstance(out["w"], jax.Array)


def test_nnx_metadata_roundtrip():
  box = meta.Partitioned(1, ("a",))
  md = box.to_nnx_metadata()
  assert md == {"value": 1, "mesh": None, "out_sharding": ("a",)}
  again = meta.Partitioned.from_nnx_metadata({**md, "extra": 3})
  assert again == box


def test_with_partitioning_keeps_the_initializer_name():
  init_fn = meta.with_partitioning(jax.nn.initializers.lecun_normal(), ("a", None))
  assert init_fn.__name__ == jax.nn.initializers.lecun_normal().__name__


def test_map_axis_meta_is_reachable_from_flaxen_core():
  # the reference's ``flax.core`` re-exports it; client code calls it from there
  from flaxen import core

  boxed = meta.Partitioned(jnp.zeros((2, 3)), ('a', 'b'))
  swapped = core.map_axis_meta(lambda m: m.replace(names=m.names[::-1]), {'w': boxed})
  assert swapped['w'].names == ('b', 'a')
  assert core.map_axis_meta is meta.map_axis_meta
