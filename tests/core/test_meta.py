"""Axis metadata boxes: pytree behaviour, unbox, add/remove axis, partition specs."""

import jax
import jax.numpy as jnp
import pytest
from jax.sharding import PartitionSpec as P

from flaxen import errors
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
