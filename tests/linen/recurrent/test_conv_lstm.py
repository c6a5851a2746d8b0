"""Tests of ConvLSTMCell."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_params_shapes_and_gate_equations():
  cell = nn.ConvLSTMCell(features=2, kernel_size=(3,))
  x = _x((2, 5, 3))
  carry = (_x((2, 5, 2), 1), _x((2, 5, 2), 2))
  variables = cell.init(KEY, carry, x)
  p = variables['params']
  assert list(p) == ['ih', 'hh']
  assert p['ih']['kernel'].shape == (3, 3, 8) and p['hh']['kernel'].shape == (3, 2, 8)
  (c, h), y = cell.apply(variables, carry, x)
  gates = (nn.Conv(8, (3,)).apply({'params': p['ih']}, x)
           + nn.Conv(8, (3,)).apply({'params': p['hh']}, carry[1]))
  i, g, f, o = jnp.split(gates, 4, axis=-1)
  exp_c = jax.nn.sigmoid(f + 1) * carry[0] + jax.nn.sigmoid(i) * jnp.tanh(g)
  np.testing.assert_allclose(np.asarray(c), np.asarray(exp_c), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(np.asarray(h), np.asarray(jax.nn.sigmoid(o) * jnp.tanh(exp_c)),
                             rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(np.asarray(y), np.asarray(h))


def test_initialize_carry_and_feature_axes():
  cell = nn.ConvLSTMCell(features=4, kernel_size=(3,), param_dtype=jnp.float16)
  assert cell.num_feature_axes == 2
  c, h = cell.initialize_carry(KEY, (7, 2, 10, 3))
  assert c.shape == h.shape == (7, 2, 10, 4) and c.dtype == jnp.float16
  assert nn.ConvLSTMCell(2, (3, 3)).num_feature_axes == 3


def test_no_bias_and_dtype():
  cell = nn.ConvLSTMCell(features=2, kernel_size=(3,), use_bias=False, dtype=jnp.bfloat16)
  x = _x((2, 5, 3))
  carry = cell.initialize_carry(KEY, x.shape)
  carry = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16), carry)
  variables = cell.init(KEY, carry, x)
  assert list(variables['params']['ih']) == ['kernel']
  (_, h), _ = cell.apply(variables, carry, x)
  assert h.dtype == jnp.bfloat16


def test_int_kernel_size_fails_like_the_reference():
  with pytest.raises(TypeError, match="object of type 'int' has no len()"):
    nn.ConvLSTMCell(features=2, kernel_size=3).initialize_carry(KEY, (1, 4, 4, 1))


def test_carry_of_a_short_input_shape_is_accepted_like_the_reference():
  # an input shape shorter than the feature axes gives a carry of just the features
  c, h = nn.ConvLSTMCell(features=4, kernel_size=(3, 3)).initialize_carry(KEY, (5,))
  assert c.shape == h.shape == (4,)
