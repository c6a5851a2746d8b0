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


def test_multiple_methods_compact_error():
  with pytest.raises(errors.MultipleMethodsCompactError):

    class Bad(nn.Module):
      @nn.compact
      def a(self, x):
        return x

      @nn.compact
      def b(self, x):
        return x


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
