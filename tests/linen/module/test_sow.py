"""sow (tuple append, custom reduce/init, no-op when immutable) and perturb."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


class Sower(nn.Module):
  @nn.compact
  def __call__(self, x):
    stored = self.sow("intermediates", "h", x)
    self.sow("intermediates", "h", x * 2)
    self.sow("sums", "s", x, reduce_fn=lambda a, b: a + b, init_fn=lambda: 0)
    self.sow("sums", "s", 2 * x, reduce_fn=lambda a, b: a + b, init_fn=lambda: 0)
    return stored


def test_sow_appends_tuple_and_reduces():
  x = jnp.ones(2)
  stored, state = Sower().apply({}, x, mutable=["intermediates", "sums"])
  assert stored is True
  h = state["intermediates"]["h"]
  assert isinstance(h, tuple) and len(h) == 2
  np.testing.assert_allclose(h[1], 2 * x)
  np.testing.assert_allclose(state["sums"]["s"], 3 * x)


def test_sow_is_noop_when_immutable():
  assert Sower().apply({}, jnp.ones(2)) is False


def test_module_called_twice_yields_two_tuple():
  class Inner(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.sow("intermediates", "y", x)
      return x

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      inner = Inner()
      return inner(inner(x))

  _, state = Outer().apply({}, 1.0, mutable="intermediates")
  assert state["intermediates"]["Inner_0"]["y"] == (1.0, 1.0)


def test_perturb_gives_gradient_of_intermediate():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      h = self.perturb("hidden", x * 3.0)
      return (h**2).sum()

  x = jnp.ones(2)
  v = M().init(jax.random.PRNGKey(0), x)
  assert list(v) == ["perturbations"]
  np.testing.assert_array_equal(v["perturbations"]["hidden"], jnp.zeros(2))
  grads = jax.grad(lambda p: M().apply({"perturbations": p}, x))(v["perturbations"])
  np.testing.assert_allclose(grads["hidden"], 2 * 3.0 * x)
  assert float(M().apply({}, x)) == 18.0


def test_perturb_collection_without_variable_raises():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      return self.perturb("hidden", x)

  with pytest.raises(ValueError, match="missing perturbation"):
    M().apply({"perturbations": {"other": 1}}, 1.0)
