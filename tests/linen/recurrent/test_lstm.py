"""Tests of LSTMCell and OptimizedLSTMCell."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
ORDER = ['ii', 'hi', 'if', 'hf', 'ig', 'hg', 'io', 'ho']


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _sigmoid(z):
  return 1 / (1 + np.exp(-z))


def _manual_lstm(p, c, h, x):
  def lin(g):
    out = np.asarray(x) @ np.asarray(p['i' + g]['kernel'])
    return out + np.asarray(h) @ np.asarray(p['h' + g]['kernel']) + np.asarray(p['h' + g]['bias'])

  i, f, g, o = _sigmoid(lin('i')), _sigmoid(lin('f')), np.tanh(lin('g')), _sigmoid(lin('o'))
  new_c = f * np.asarray(c) + i * g
  return new_c, o * np.tanh(new_c)


@pytest.mark.parametrize('cls', [nn.LSTMCell, nn.OptimizedLSTMCell])
def test_params_order_shapes_and_equations(cls):
  cell = cls(features=4)
  x = _x((2, 3))
  carry = (_x((2, 4), 1), _x((2, 4), 2))
  variables = cell.init(KEY, carry, x)
  p = variables['params']
  assert list(p) == ORDER
  for g in 'ifgo':
    assert list(p['i' + g]) == ['kernel'] and p['i' + g]['kernel'].shape == (3, 4)
    assert list(p['h' + g]) == ['kernel', 'bias'] and p['h' + g]['kernel'].shape == (4, 4)
  (new_c, new_h), y = cell.apply(variables, carry, x)
  exp_c, exp_h = _manual_lstm(p, *carry, x)
  np.testing.assert_allclose(np.asarray(new_c), exp_c, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(new_h), exp_h, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(np.asarray(y), np.asarray(new_h))


def test_optimized_cell_shares_params_with_lstm_cell():
  x = _x((5, 3))
  carry = (_x((5, 4), 1), _x((5, 4), 2))
  a_vars = nn.LSTMCell(4).init(KEY, carry, x)
  b_vars = nn.OptimizedLSTMCell(4).init(KEY, carry, x)
  jax.tree_util.tree_map(np.testing.assert_array_equal, a_vars, b_vars)
  (_, ha), _ = nn.LSTMCell(4).apply(a_vars, carry, x)
  (_, hb), _ = nn.OptimizedLSTMCell(4).apply(a_vars, carry, x)
  np.testing.assert_allclose(np.asarray(ha), np.asarray(hb), rtol=1e-5, atol=1e-6)


def test_recurrent_kernels_are_orthogonal_by_default():
  x = _x((2, 3))
  carry = nn.LSTMCell(6).initialize_carry(KEY, x.shape)
  k = np.asarray(nn.LSTMCell(6).init(KEY, carry, x)['params']['hf']['kernel'])
  np.testing.assert_allclose(k @ k.T, np.eye(6), atol=1e-5)


@pytest.mark.parametrize('cls', [nn.LSTMCell, nn.OptimizedLSTMCell])
def test_initialize_carry(cls):
  cell = cls(features=5, param_dtype=jnp.float16)
  c, h = cell.initialize_carry(KEY, (2, 7, 3))
  assert c.shape == h.shape == (2, 7, 5)
  assert c.dtype == jnp.float16
  np.testing.assert_array_equal(np.asarray(c), 0)
  ones = cls(features=2, carry_init=nn.initializers.ones).initialize_carry(KEY, (3,))
  np.testing.assert_array_equal(np.asarray(ones[0]), np.ones((2,)))
  assert cell.num_feature_axes == 1


@pytest.mark.parametrize('cls', [nn.LSTMCell, nn.OptimizedLSTMCell])
def test_dtype_param_dtype_and_custom_initializers(cls):
  cell = cls(features=3, dtype=jnp.bfloat16, param_dtype=jnp.float16,
             kernel_init=nn.initializers.ones, recurrent_kernel_init=nn.initializers.zeros,
             bias_init=nn.initializers.constant(0.25))
  x = _x((2, 2))
  carry = cell.initialize_carry(KEY, x.shape)
  assert carry[0].dtype == jnp.float16  # carry_init uses param_dtype
  carry = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16), carry)
  variables = cell.init(KEY, carry, x)
  p = variables['params']
  assert all(a.dtype == jnp.float16 for a in jax.tree_util.tree_leaves(p))
  np.testing.assert_array_equal(np.asarray(p['ii']['kernel'], np.float32), 1)
  np.testing.assert_array_equal(np.asarray(p['hi']['kernel'], np.float32), 0)
  np.testing.assert_array_equal(np.asarray(p['hi']['bias'], np.float32), 0.25)
  (_, h), _ = cell.apply(variables, carry, x)
  assert h.dtype == jnp.bfloat16


@pytest.mark.parametrize('cls', [nn.LSTMCell, nn.OptimizedLSTMCell])
def test_hidden_size_comes_from_the_carry(cls):
  # A seq2seq decoder whose carry is wider than ``features`` works as in the reference.
  x = _x((2, 3))
  carry = (_x((2, 6), 1), _x((2, 6), 2))
  ((c, h), y), variables = cls(features=4).init_with_output(KEY, carry, x)
  assert c.shape == h.shape == y.shape == (2, 6)
  p = variables['params']
  assert p['ii']['kernel'].shape == (3, 6) and p['hi']['kernel'].shape == (6, 6)
  exp_c, exp_h = _manual_lstm(p, *carry, x)
  np.testing.assert_allclose(np.asarray(c), exp_c, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(h), exp_h, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cls', [nn.LSTMCell, nn.OptimizedLSTMCell])
def test_carry_is_unpacked_like_the_reference(cls):
  x = _x((2, 3))
  # any length-2 sequence unpacks, an array of two carries included
  (_, h), _ = cls(features=4).init_with_output(KEY, jnp.zeros((2, 2, 4)), x)[0]
  assert h.shape == (2, 4)
  with pytest.raises(ValueError, match=r'too many values to unpack \(expected 2\)'):
    cls(features=4).init(KEY, (jnp.zeros((2, 4)),) * 3, x)


def test_partitioned_initializers_are_boxed_and_usable():
  boxed = nn.with_partitioning(nn.initializers.lecun_normal(), (None, 'hidden'))
  cell = nn.OptimizedLSTMCell(4, kernel_init=boxed, recurrent_kernel_init=boxed,
                              bias_init=nn.with_partitioning(nn.initializers.zeros_init(),
                                                             ('hidden',)))
  x = _x((2, 3))
  carry = cell.initialize_carry(KEY, x.shape)
  variables = cell.init(KEY, carry, x)
  specs = nn.get_partition_spec(variables)['params']
  assert specs['hi']['kernel'] == jax.sharding.PartitionSpec(None, 'hidden')
  assert specs['hi']['bias'] == jax.sharding.PartitionSpec('hidden')
  (_, h), _ = cell.apply(variables, carry, x)
  (_, h_plain), _ = cell.apply(nn.unbox(variables), carry, x)
  np.testing.assert_array_equal(np.asarray(h), np.asarray(h_plain))
