"""Activation functions (JAX's own, re-exported) and the PReLU layer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

JAX_NAMES = [
  'celu', 'elu', 'gelu', 'glu', 'hard_sigmoid', 'hard_silu', 'hard_swish', 'hard_tanh',
  'leaky_relu', 'log_sigmoid', 'log_softmax', 'logsumexp', 'one_hot', 'relu', 'relu6', 'selu',
  'sigmoid', 'silu', 'soft_sign', 'softmax', 'softplus', 'standardize', 'swish',
]


@pytest.mark.parametrize('name', JAX_NAMES)
def test_functions_are_jax_functions(name):
  assert getattr(nn, name) is getattr(jax.nn, name)
  assert getattr(nn.activation, name) is getattr(jax.nn, name)


def test_tanh_and_normalize():
  assert nn.tanh is jnp.tanh
  assert nn.normalize is nn.standardize is jax.nn.standardize  # as in the reference
  x = jnp.array([[1.0, 2.0, 4.0]])
  np.testing.assert_allclose(nn.normalize(x), jax.nn.standardize(x))


def test_one_hot_out_of_range_is_zero():
  np.testing.assert_array_equal(nn.one_hot(jnp.array([-1, 3]), 3), np.zeros((2, 3)))


def test_relu_gradient_at_zero():
  assert float(jax.grad(nn.relu)(0.0)) == 0.0


def test_prelu():
  layer = nn.PReLU(negative_slope_init=0.2)
  x = jnp.array([-2.0, 0.0, 3.0])
  variables = layer.init(jax.random.PRNGKey(0), x)
  slope = variables['params']['negative_slope']
  assert slope.shape == () and slope.dtype == jnp.float32 and float(slope) == pytest.approx(0.2)
  np.testing.assert_allclose(layer.apply(variables, x), [-0.4, 0.0, 3.0], rtol=1e-6)
  assert nn.PReLU().init(jax.random.PRNGKey(0), x)['params']['negative_slope'] == \
    pytest.approx(0.01)


def test_prelu_keeps_input_dtype_and_param_dtype():
  layer = nn.PReLU(param_dtype=jnp.bfloat16)
  x = jnp.array([-1.0, 1.0], jnp.float16)
  variables = layer.init(jax.random.PRNGKey(0), x)
  assert variables['params']['negative_slope'].dtype == jnp.bfloat16
  assert layer.apply(variables, x).dtype == jnp.float16
