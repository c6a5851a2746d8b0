"""Module repr: attributes block, callables by name, children of bound modules."""

import jax
import jax.numpy as jnp

from flaxen import linen as nn


def init(key, shape, dtype=jnp.float32):
  return jnp.zeros(shape, dtype)


class Layer(nn.Module):
  features: int = 3
  dtype: object = None
  param_dtype: object = jnp.float32
  kernel_init: object = init

  @nn.compact
  def __call__(self, x):
    return x @ self.param("k", self.kernel_init, (x.shape[-1], self.features))


class Empty(nn.Module):
  pass


def test_unbound_repr():
  assert repr(Layer()) == (
    "Layer(\n"
    "    # attributes\n"
    "    features = 3\n"
    "    dtype = None\n"
    "    param_dtype = float32\n"
    "    kernel_init = init\n"
    ")"
  )
  assert repr(Empty()) == "Empty()"


def test_bound_repr_lists_children():
  class Outer(nn.Module):
    inner: nn.Module = None

    @nn.compact
    def __call__(self, x):
      return Layer(2)(x)

  bound = Outer().bind({"params": {"Layer_0": {"k": jnp.zeros((1, 2))}}})
  bound(jnp.ones((1, 1)))
  text = repr(bound)
  assert text.startswith("Outer(\n    # attributes\n    inner = None\n    # children\n")
  assert "    Layer_0 = Layer(\n        # attributes\n        features = 2\n" in text
  assert text.endswith("    )\n)")


def test_nested_module_field_repr():
  text = repr(Wrapper(Layer(features=4)))
  assert text.startswith("Wrapper(\n    # attributes\n    inner = Layer(\n        # attributes\n")


class Wrapper(nn.Module):
  inner: nn.Module

  def __call__(self, x):
    return self.inner(x)


def test_adopted_field_module_params():
  v = Wrapper(Layer()).init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert "k" in v["params"]["inner"]
