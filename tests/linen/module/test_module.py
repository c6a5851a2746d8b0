"""The Module class: dataclass behaviour, freezing, variables API, errors, notes, pickling."""

import dataclasses
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn

zeros = jax.nn.initializers.zeros
lecun = jax.nn.initializers.lecun_normal()


class Affine(nn.Module):
  features: int
  use_bias: bool = True

  @nn.compact
  def __call__(self, x):
    y = x @ self.param("kernel", lecun, (x.shape[-1], self.features))
    if self.use_bias:
      b = self.param("bias", zeros, (self.features,))
      y = y + b.reshape((1,) * (y.ndim - 1) + b.shape)
    return y


class Plain(nn.Module):
  a: int = 1
  b: tuple = (1, 2)


def test_subclass_is_dataclass_with_trailing_parent_and_name():
  names = [f.name for f in dataclasses.fields(Affine)]
  assert names == ["features", "use_bias", "parent", "name"]
  with pytest.raises(TypeError):
    Affine(3, True, None)  # parent and name are keyword-only

  class Sub(Affine):
    extra: int = 3

  assert [f.name for f in dataclasses.fields(Sub)][-2:] == ["parent", "name"]
  assert Sub(2, False, 4).extra == 4
  m = Affine(3, name="dense")
  assert m.name == "dense" and m.parent is None and m.scope is None


def test_kw_only_not_inherited():
  class Base(nn.Module, kw_only=True):
    a: int = 1

  class Child(Base):
    b: int

  c = Child(2, a=5)
  assert (c.a, c.b) == (5, 2)
  with pytest.raises(TypeError):
    Base(3)


def test_modules_are_hashable_and_comparable():
  assert Affine(3) == Affine(3) and hash(Affine(3)) == hash(Affine(3))
  assert Affine(3) != Affine(4)
  assert Plain() == Plain()


def test_pickle_unbound_module():
  m = Plain(a=5, name="x")
  m2 = pickle.loads(pickle.dumps(m))
  assert m2 == m and m2.a == 5 and m2.name == "x"
  assert m2.clone(a=7).a == 7


def test_clone_keeps_fields_and_drops_parent():
  m = Affine(3, name="n")
  c = m.clone(features=4)
  assert c.features == 4 and c.name == "n" and c.parent is None and c is not m


def test_variables_api_inside_module():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      assert self.has_variable("params", "w") != self.is_initializing()
      w = self.param("w", zeros, (2,))
      assert self.has_variable("params", "w")
      assert self.get_variable("params", "missing", 3) == 3
      v = self.variable("state", "s", lambda: jnp.zeros(()))
      if self.is_mutable_collection("state"):
        self.put_variable("state", "s", v.value + 1)
      assert self.has_rng("params") == self.is_initializing()
      return x + w

  v = M().init(jax.random.PRNGKey(0), jnp.ones(2))
  assert float(v["state"]["s"]) == 1.0
  _, m = M().apply(v, jnp.ones(2), mutable="state")
  assert float(m["state"]["s"]) == 2.0


def test_unbound_variable_access_raises_value_error():
  m = Affine(2)
  for call in (
    lambda: m.variables,
    lambda: m.has_variable("params", "w"),
    lambda: m.get_variable("params", "w"),
    lambda: m.put_variable("params", "w", 1),
    lambda: m.make_rng("params"),
    lambda: m.is_initializing(),
    lambda: m.is_mutable_collection("params"),
    lambda: m.has_rng("params"),
    lambda: m.path,
    lambda: m.param("w", zeros, (1,)),
    lambda: m.variable("state", "v", jnp.zeros, ()),
    lambda: m.sow("intermediates", "h", 1),
    lambda: m.perturb("p", 1.0),
  ):
    with pytest.raises(ValueError):
      call()


def test_param_outside_setup_or_compact_raises():
  class M(nn.Module):
    def __call__(self, x):
      return self.param("w", zeros, (1,))

  with pytest.raises(ValueError, match="setup"):
    M().init(jax.random.PRNGKey(0), 1)


def test_make_rng_default_stream_is_params():
  class M(nn.Module):
    @nn.compact
    def __call__(self):
      return self.make_rng()

  from flaxen.core.scope import LazyRng

  key = jax.random.PRNGKey(0)
  out, _ = M().init_with_output(key)
  np.testing.assert_array_equal(out, LazyRng.create(key, 1).as_jax_rng())


def test_path_and_variables_property():
  class Inner(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.param("w", zeros, (1,))
      return self.path, self.variables

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Inner(name="inner")(x)

  (path, variables), _ = Outer().init_with_output(jax.random.PRNGKey(0), 1)
  assert path == ("inner",)
  assert list(variables["params"]) == ["w"]


# ------------------------------------------------------------------ errors


def test_reserved_module_attribute_error():
  with pytest.raises(errors.ReservedModuleAttributeError):

    class BadParent(nn.Module):
      parent: int = 3

  with pytest.raises(errors.ReservedModuleAttributeError):

    class BadName(nn.Module):
      name: int = 3

  class Redeclared(nn.Module):  # re-annotating name with its own type is allowed
    name: str | None = None
    x: int = 1

  assert Redeclared(2, name="a").name == "a"


def test_set_attribute_frozen_module_error_in_call():
  class SomeModule(nn.Module):
    @nn.compact
    def __call__(self, x, num_features=10):
      self.num_features = num_features
      return x

  with pytest.raises(errors.SetAttributeFrozenModuleError, match="num_features"):
    SomeModule().init(jax.random.PRNGKey(0), jnp.ones((5, 5)))


def test_set_attribute_frozen_module_error_on_submodule_in_setup():
  class Foo(nn.Module):
    def setup(self):
      self.dense = Affine(10)
      self.dense.features = 20

    def __call__(self, x):
      return self.dense(x)

  with pytest.raises(errors.SetAttributeFrozenModuleError):
    Foo().init(jax.random.PRNGKey(0), jnp.ones((1, 2)))


def test_top_level_modules_are_not_yet_frozen_but_bound_ones_are():
  m = Plain()
  m.a = 3  # like the reference: a parentless module is initialized on attachment
  assert m.a == 3
  bound = Plain().bind({})
  with pytest.raises(errors.SetAttributeFrozenModuleError):
    bound.a = 4
  bound.__doc_extra__ = "dunder names may always be set"


def test_hash_of_bound_module_raises():
  with pytest.raises(TypeError, match="hold variables"):
    hash(Plain().bind({}))

  class Unhashable(nn.Module):
    items: object = None

  with pytest.raises(TypeError, match="Failed to hash"):
    hash(Unhashable(items=[1]))


def test_parent_is_weakly_referenced():
  import gc
  import weakref

  class Child(nn.Module):
    @nn.compact
    def __call__(self):
      return self

  class Top(nn.Module):
    @nn.compact
    def __call__(self):
      return Child()()

  child = nn.apply(lambda m: m(), Top())({})
  assert isinstance(child.parent, Top) or child.parent is None
  ref = weakref.ref(child)
  del child
  gc.disable()
  try:
    assert ref() is None  # freed by reference counting alone (no cycles)
  finally:
    gc.enable()


def test_copy_gives_new_auto_name_inside_compact():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      a = Affine(2, name="first")
      b = a.copy()
      return b.name, b.features

  (name, features), _ = M().init_with_output(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert name == "Affine_0" and features == 2


def test_set_attribute_in_module_setup_error():
  class Foo(nn.Module):
    features: int = 6

    def setup(self):
      self.features = 3

    def __call__(self, x):
      return x

  with pytest.raises(errors.SetAttributeInModuleSetupError):
    Foo().init(jax.random.PRNGKey(0), jnp.ones((1,)))


def test_incorrect_post_init_override_error():
  class A(nn.Module):
    x: float

    def __post_init__(self):
      object.__setattr__(self, "x_square", self.x**2)

    @nn.compact
    def __call__(self, inputs):
      return inputs + 3

  with pytest.raises(errors.IncorrectPostInitOverrideError):
    A(x=3).init(jax.random.PRNGKey(2), jnp.ones(3))


def test_descriptor_attribute_error():
  class Foo(nn.Module):
    @property
    def prop(self):
      return self.non_existent_field

    def __call__(self, x):
      return self.prop

  with pytest.raises(errors.DescriptorAttributeError):
    Foo().init(jax.random.PRNGKey(0), jnp.ones((1, 8)))


def test_property_reading_setup_attribute_works():
  class Foo(nn.Module):
    def setup(self):
      self.scale = 2.0

    @property
    def doubled(self):
      return self.scale * 2

    def __call__(self, x):
      return x * self.doubled

  assert float(Foo().apply({}, jnp.ones(()))) == 4.0


def test_assign_submodule_error_outside_compact():
  class Foo(nn.Module):
    def setup(self):
      pass

    def __call__(self, x):
      return Affine(3)(x)

  with pytest.raises(errors.AssignSubModuleError, match="Affine"):
    Foo().init(jax.random.PRNGKey(0), jnp.zeros((1,)))


def test_assign_submodule_error_partial_from_setup():
  import functools

  class Foo(nn.Module):
    def setup(self):
      self.make = functools.partial(Affine, features=3)

    def __call__(self, x):
      return self.make(use_bias=False)(x)

  with pytest.raises(errors.AssignSubModuleError):
    Foo().init(jax.random.PRNGKey(0), jnp.zeros((1,)))


# ------------------------------------------------------------------ notes


def test_user_exception_gets_module_path_note_once():
  class Enc(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = Affine(3)(x)
      return Affine(2, name="bad")(x[None, None, :, :, None] @ jnp.ones((4, 4)))

  class Top(nn.Module):
    def setup(self):
      self.encoder = Enc()

    def __call__(self, x):
      return self.encoder(x)

  with pytest.raises(TypeError) as info:
    Top().init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
  notes = [n for n in getattr(info.value, "__notes__", []) if n.startswith("in /")]
  assert notes == ["in /encoder (Enc.__call__)"]


def test_exception_in_innermost_module_is_noted_there():
  class Fails(nn.Module):
    @nn.compact
    def __call__(self, x):
      raise KeyError("boom")

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Fails()(x)

  with pytest.raises(KeyError) as info:
    Outer().init(jax.random.PRNGKey(0), 1)
  assert [n for n in info.value.__notes__ if n.startswith("in /")] == ["in /Fails_0 (Fails.__call__)"]


def test_dir_runs_setup_of_bound_module():
  class S(nn.Module):
    def setup(self):
      self.extra = 1

  bound = S().bind({})
  assert "extra" in dir(bound)


def test_base_module_instance_and_repr():
  m = nn.Module()
  assert repr(m) == "Module()" and m.name is None


def test_bound_module_under_raw_jit_raises_jax_transform_error():
  class Counter(nn.Module):
    @nn.compact
    def __call__(self, x):
      c = self.variable("state", "n", lambda: jnp.zeros(()))
      c.value = c.value + 1
      return x

  bound = Counter().bind({"state": {"n": jnp.zeros(())}}, mutable=["state"])
  bound(jnp.ones(()))  # fine eagerly
  with pytest.raises(errors.JaxTransformError):
    jax.jit(lambda x: bound(x))(jnp.ones(()))
