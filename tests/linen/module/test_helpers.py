"""merge_param and share_scope."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn


def test_merge_param():
  assert nn.merge_param("x", 1, None) == 1
  assert nn.merge_param("x", None, 2) == 2
  with pytest.raises(ValueError, match="must be passed to the constructor or at call time"):
    nn.merge_param("x", None, None)
  with pytest.raises(ValueError, match="passed just once"):
    nn.merge_param("x", 1, 2)


class Lin(nn.Module):
  features: int = 2

  @nn.compact
  def __call__(self, x):
    return x @ self.param("kernel", jax.nn.initializers.ones, (x.shape[-1], self.features))


class LoRA(nn.Module):
  base: nn.Module

  def setup(self):
    nn.share_scope(self, self.base)

  @nn.compact
  def __call__(self, x):
    a = self.param("A", jax.nn.initializers.zeros, (x.shape[-1], self.base.features))
    return self.base(x) + x @ a


def test_share_scope_wrapper_of_sibling_uses_sibling_path():
  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      return LoRA(Lin())(x)

  v = Model().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert list(v["params"]) == ["Lin_0"]
  assert list(v["params"]["Lin_0"]) == ["A", "kernel"]


def test_share_scope_with_adopted_child_uses_wrapper_path():
  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      return LoRA(Lin(parent=None))(x)

  v = Model().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert list(v["params"]) == ["LoRA_0"]
  assert list(v["params"]["LoRA_0"]) == ["A", "kernel"]


def test_share_scope_unbound_raises():
  with pytest.raises(ValueError):
    nn.share_scope(Lin(), Lin())


def test_share_scope_with_setup_child_keeps_params_in_wrapper():
  class LoRAChild(nn.Module):
    def setup(self):
      self.child = Lin(2)
      nn.share_scope(self, self.child)

    @nn.compact
    def __call__(self, x):
      a = self.param("A", jax.nn.initializers.zeros, (x.shape[-1], 2))
      return self.child(x) + x @ a

  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      return LoRAChild()(x)

  v = Model().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert list(v["params"]) == ["LoRAChild_0"]
  assert list(v["params"]["LoRAChild_0"]) == ["A", "kernel"]
