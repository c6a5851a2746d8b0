"""Submodule names: auto names, explicit names, setup attributes, adoption, sharing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import config, errors
from flaxen import linen as nn

zeros = jax.nn.initializers.zeros
normal = jax.nn.initializers.normal()


class W(nn.Module):
  """A tiny layer with one param."""

  n: int = 2

  @nn.compact
  def __call__(self, x):
    return x * self.param("w", normal, (self.n,))


class Other(W):
  pass


def keys(tree):
  return list(tree["params"])


def init(module, x=None):
  return module.init(jax.random.PRNGKey(0), jnp.ones(2) if x is None else x)


def test_auto_names_counted_per_class():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = W()(x)
      x = Other()(x)
      x = W(name="named")(x)
      x = W()(x)
      return Other()(x)

  assert keys(init(M())) == ["W_0", "Other_0", "named", "W_1", "Other_1"]


def test_explicit_name_equal_to_later_auto_name_raises():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = W(name="W_0")(x)
      return W()(x)

  with pytest.raises(errors.NameInUseError, match='submodule "W_0"'):
    init(M())


def test_name_in_use_duplicate_explicit_and_param_vs_submodule():
  class Dup(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = W(name="bar")(x)
      return W(name="bar")(x)

  class ParamThenModule(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.param("bar", zeros, (1,))
      return W(name="bar")(x)

  class ModuleThenParam(nn.Module):
    @nn.compact
    def __call__(self, x):
      W(name="bar")(x)
      return self.param("bar", zeros, (1,))

  for m in (Dup(), ParamThenModule(), ModuleThenParam()):
    with pytest.raises(errors.NameInUseError):
      init(m)


def test_param_and_variable_same_name_relaxed():
  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.param("mean", zeros, (2,))
      self.variable("stats", "mean", jnp.zeros, (2,))
      return x

  v = init(Foo())
  assert "mean" in v["params"] and "mean" in v["stats"]
  with config.temp_flip_flag("relaxed_naming", False):
    with pytest.raises(errors.NameInUseError, match='variable "mean"'):
      init(Foo())


def test_shared_instance_reuses_params():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = W(name="shared")
      return d(d(x))

  v = init(M())
  assert keys(v) == ["shared"]


def test_setup_attribute_names_lists_dicts_nested():
  class M(nn.Module):
    def setup(self):
      self.single = W()
      self.layers = [W(), W()]
      self.heads = {"b": W(), "a": W()}
      self.pairs = ((W(), W()),)

    def __call__(self, x):
      x = self.single(x)
      for layer in self.layers:
        x = layer(x)
      for h in self.heads.values():
        x = h(x)
      p, q = self.pairs[0]
      return p(x) + q(x)

  v = init(M())
  assert keys(v) == ["single", "layers_0", "layers_1", "heads_b", "heads_a", "pairs_0_0", "pairs_0_1"]


def test_setup_containers_are_frozen():
  class M(nn.Module):
    def setup(self):
      self.items = [1, 2]
      self.table = {"a": [3]}

    def __call__(self):
      return self.items, self.table

  items, table = M().apply({})
  assert items == (1, 2)
  assert isinstance(table, nn.FrozenDict) and table["a"] == (3,)


def test_list_field_is_frozen_when_bound():
  class M(nn.Module):
    features: list

    def __call__(self):
      return self.features

  assert M([1, 2]).apply({}) == (1, 2)


def test_module_passed_as_field_is_adopted_under_field_name():
  class Wrapper(nn.Module):
    inner: nn.Module

    @nn.compact
    def __call__(self, x):
      return W()(self.inner(x))

  v = init(Wrapper(W(name="ignored")))
  assert keys(v) == ["inner", "W_0"]
  with config.temp_flip_flag("preserve_adopted_names", True):
    v = init(Wrapper(W(name="kept")))
  assert keys(v) == ["kept", "W_0"]


def test_class_attribute_preserve_adopted_names():
  class Wrapper(nn.Module):
    inner: nn.Module
    preserve_adopted_names = True

    def __call__(self, x):
      return self.inner(x)

  assert keys(init(Wrapper(W(name="kept")))) == ["kept"]


def test_same_outside_module_in_two_fields_is_shared():
  class Two(nn.Module):
    a: nn.Module
    b: nn.Module

    def __call__(self, x):
      return self.b(self.a(x))

  d = W()
  v = init(Two(d, d))
  assert keys(v) == ["a"]


def test_outside_module_assigned_in_setup_is_adopted():
  outside = W()

  class M(nn.Module):
    def setup(self):
      self.layer = outside

    def __call__(self, x):
      return self.layer(x)

  assert keys(init(M())) == ["layer"]
  assert outside.parent is None and outside.name is None


def test_submodule_shared_between_siblings():
  class Tower(nn.Module):
    dense: nn.Module

    @nn.compact
    def __call__(self, x):
      return W()(self.dense(x))

  class Two(nn.Module):
    def setup(self):
      self.shared = W()
      self.a = Tower(self.shared)
      self.b = Tower(self.shared)

    def __call__(self, x):
      return self.a(x) + self.b(x)

  v = init(Two())
  assert keys(v) == ["shared", "a", "b"]
  assert list(v["params"]["a"]) == ["W_0"]


def test_detached_module_reserves_no_name():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      detached = W(parent=None)
      assert detached.scope is None
      return W()(x)

  assert keys(init(M())) == ["W_0"]


def test_rng_counters_continue_for_shared_child_across_calls():
  class Child(nn.Module):
    @nn.compact
    def __call__(self):
      return self.make_rng("noise")

  class Parent(nn.Module):
    @nn.compact
    def __call__(self):
      return Child()()

  class Top(nn.Module):
    @nn.compact
    def __call__(self):
      p = Parent(name="p")
      return p(), p()

  from flaxen.core.scope import LazyRng

  key = jax.random.PRNGKey(1)
  (a, b), _ = Top().init_with_output({"params": jax.random.PRNGKey(0), "noise": key})
  np.testing.assert_array_equal(a, LazyRng.create(key, "p", "Child_0", 1).as_jax_rng())
  np.testing.assert_array_equal(b, LazyRng.create(key, "p", "Child_0", 2).as_jax_rng())


def test_adoption_does_not_keep_the_call_alive():
  """The adoption cache holds its clones weakly: a finished apply leaves nothing behind."""
  import gc
  import weakref

  roots = []

  class Wrap(nn.Module):
    inner: nn.Module

    def __call__(self, x):
      roots.append(weakref.ref(self.scope.root))
      return self.inner(x)

  m = Wrap(nn.Dense(2))
  v = m.init(jax.random.key(0), jnp.ones((1, 2)))
  m.apply(v, jnp.ones((1, 2)))
  gc.collect()
  assert roots and all(r() is None for r in roots)
