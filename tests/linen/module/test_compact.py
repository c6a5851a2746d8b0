"""@compact, @nowrap and compact_name_scope."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

zeros = jax.nn.initializers.zeros


class P(nn.Module):
  @nn.compact
  def __call__(self, x):
    return x + self.param("b", zeros, x.shape)


class TwoCompact(nn.Module):
  @nn.compact
  def __call__(self, x):
    return self.method(nn.Dense(1)(x))

  @nn.compact
  def method(self, x):
    return nn.Dense(2)(x)


def test_several_compact_methods_in_one_class():
  # accepted as in today's reference; a compact method called from another continues the
  # automatic numbering of the caller
  shapes = jax.tree_util.tree_map(jnp.shape, TwoCompact().init(jax.random.key(0), jnp.ones((1, 1))))
  assert shapes == {'params': {'Dense_0': {'bias': (1,), 'kernel': (1, 1)},
                               'Dense_1': {'bias': (2,), 'kernel': (1, 2)}}}
  # each compact method can also be the entry point on its own
  v = TwoCompact().init(jax.random.key(0), jnp.ones((1, 1)), method='method')
  assert v['params']['Dense_0']['kernel'].shape == (1, 2)
  assert TwoCompact().apply(v, jnp.ones((1, 1)), method='method').shape == (1, 2)


def test_subclass_may_add_a_compact_method():
  class More(TwoCompact):
    @nn.compact
    def third(self, x):
      return nn.Dense(3)(x)

  v = More().init(jax.random.key(0), jnp.ones((1, 1)), method='third')
  assert v['params']['Dense_0']['kernel'].shape == (1, 3)


def test_overriding_compact_method_is_fine():
  class Base(nn.Module):
    @nn.compact
    def __call__(self, x):
      return x

  class Sub(Base):
    @nn.compact
    def __call__(self, x):
      return x + 1

  assert Sub().apply({}, 1) == 2


def test_call_compact_unbound_module_error():
  with pytest.raises(errors.CallCompactUnboundModuleError):
    P()(jnp.ones(2))


def test_compact_called_twice_reuses_names():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      return P()(x)

    def twice(self, x):
      return self(self(x))

  v = M().init(jax.random.PRNGKey(0), jnp.ones(2), method="twice")
  assert list(v["params"]) == ["P_0"]


def test_nowrap_helper_callable_on_unbound_module():
  class M(nn.Module):
    size: int = 3

    @nn.nowrap
    def make(self):
      return P(name="made")

    @nn.compact
    def __call__(self, x):
      return self.make()(x)

  assert M().make().name == "made"
  v = M().init(jax.random.PRNGKey(0), jnp.ones(2))
  assert list(v["params"]) == ["made"]


def test_compact_name_scope_gives_child_scopes():
  class NameScoped(nn.Module):
    @nn.compact_name_scope
    def up(self, x):
      return P()(x)

    @nn.compact_name_scope
    def down(self, x):
      return P()(x)

    def __call__(self, x):
      return self.up(x) + self.down(x)

  v = NameScoped().init(jax.random.PRNGKey(0), jnp.ones(2))
  assert list(v["params"]) == ["up", "down"]
  assert list(v["params"]["up"]) == ["P_0"] and list(v["params"]["down"]) == ["P_0"]
  out = NameScoped().apply(v, jnp.ones(2), method="up")
  assert out.shape == (2,)
