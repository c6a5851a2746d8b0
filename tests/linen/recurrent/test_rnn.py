"""Tests of RNN and flip_sequences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen.linen import recurrent

KEY = jax.random.PRNGKey(0)


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_params_are_broadcast_under_cell_and_output_matches_loop():
  rnn = nn.RNN(nn.LSTMCell(4), return_carry=True)
  x = _x((2, 5, 3))
  variables = rnn.init(KEY, x)
  p = variables['params']
  assert list(p) == ['cell']
  assert sorted(p['cell']) == ['hf', 'hg', 'hi', 'ho', 'if', 'ig', 'ii', 'io']
  assert p['cell']['ii']['kernel'].shape == (3, 4)
  carry, y = rnn.apply(variables, x)
  assert y.shape == (2, 5, 4)
  cell = nn.LSTMCell(4)
  c = cell.initialize_carry(KEY, (2, 3))
  for t in range(5):
    c, yt = cell.apply({'params': p['cell']}, c, x[:, t])
    np.testing.assert_allclose(np.asarray(y[:, t]), np.asarray(yt), rtol=1e-5, atol=1e-6)
  jax.tree_util.tree_map(
    lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6),
    carry, c)


def test_time_major_equals_transposed_batch_major():
  x = _x((2, 6, 3), 1)
  rnn = nn.RNN(nn.GRUCell(4))
  variables = rnn.init(KEY, x)
  a = rnn.apply(variables, x)
  b = nn.RNN(nn.GRUCell(4), time_major=True).apply(variables, jnp.swapaxes(x, 0, 1))
  np.testing.assert_allclose(np.asarray(a), np.asarray(jnp.swapaxes(b, 0, 1)), rtol=1e-6,
                             atol=1e-6)
  c = rnn.apply(variables, jnp.swapaxes(x, 0, 1), time_major=True)
  np.testing.assert_array_equal(np.asarray(b), np.asarray(c))


def test_reverse_and_keep_order():
  x = _x((2, 5, 3), 2)
  rnn = nn.RNN(nn.SimpleCell(4))
  variables = rnn.init(KEY, x)
  rev = rnn.apply(variables, x, reverse=True)
  flipped = rnn.apply(variables, jnp.flip(x, axis=1))
  np.testing.assert_allclose(np.asarray(rev), np.asarray(flipped), rtol=1e-6, atol=1e-6)
  kept = rnn.apply(variables, x, reverse=True, keep_order=True)
  np.testing.assert_allclose(np.asarray(kept), np.asarray(jnp.flip(flipped, axis=1)),
                             rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('reverse', [False, True])
def test_seq_lengths_final_carry_is_last_valid_step(reverse):
  x = _x((3, 6, 2), 3)
  lengths = jnp.array([6, 3, 1])
  rnn = nn.RNN(nn.GRUCell(3), return_carry=True, reverse=reverse)
  variables = rnn.init(KEY, x, seq_lengths=lengths)
  carry, y = rnn.apply(variables, x, seq_lengths=lengths)
  assert y.shape == (3, 6, 3)
  cell = nn.GRUCell(3)
  for b in range(3):
    n = int(lengths[b])
    h = jnp.zeros((1, 3))
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for t in steps:
      h, _ = cell.apply({'params': variables['params']['cell']}, h, x[b:b + 1, t])
    np.testing.assert_allclose(np.asarray(carry[b]), np.asarray(h[0]), rtol=1e-5, atol=1e-6)


def test_initial_carry_and_init_key():
  x = _x((2, 4, 3), 4)
  rnn = nn.RNN(nn.OptimizedLSTMCell(3), return_carry=True)
  init_carry = (_x((2, 3), 5), _x((2, 3), 6))
  variables = rnn.init(KEY, x, initial_carry=init_carry)
  (c0, _), y0 = rnn.apply(variables, x, initial_carry=init_carry)
  (c1, _), y1 = rnn.apply(variables, x)
  assert not np.allclose(np.asarray(y0), np.asarray(y1))
  noisy = nn.RNN(nn.SimpleCell(3, carry_init=nn.initializers.normal(1.0)))
  v = noisy.init(KEY, x)
  a = noisy.apply(v, x, init_key=jax.random.PRNGKey(1))
  b = noisy.apply(v, x, init_key=jax.random.PRNGKey(2))
  assert not np.allclose(np.asarray(a), np.asarray(b))


def test_conv_cell_over_time():
  x = _x((2, 3, 5, 3), 7)
  rnn = nn.RNN(nn.ConvLSTMCell(2, kernel_size=(3,)))
  variables = rnn.init(KEY, x)
  assert rnn.apply(variables, x).shape == (2, 3, 5, 2)


def test_unroll_and_jit_match():
  x = _x((2, 6, 3), 8)
  rnn = nn.RNN(nn.GRUCell(4))
  variables = rnn.init(KEY, x)
  a = rnn.apply(variables, x)
  b = jax.jit(nn.RNN(nn.GRUCell(4), unroll=3).apply)(variables, x)
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_inputs_fail_where_the_reference_fails():
  rnn = nn.RNN(nn.GRUCell(4))
  # a 1-D input: the time axis is found, each step is a scalar and Dense refuses it
  with pytest.raises(IndexError, match='tuple index out of range'):
    rnn.init(KEY, jnp.ones((3,)))
  # seq_lengths is only used to reverse or to pick the final carry
  y, _ = rnn.init_with_output(KEY, jnp.ones((2, 5, 3)), seq_lengths=jnp.array([1, 2, 3]))
  assert y.shape == (2, 5, 4)


def test_default_init_key_is_a_typed_key_like_the_reference():
  seen = []

  def carry_init(key, shape, dtype):
    seen.append(jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key))
    return nn.initializers.normal(1.0)(key, shape, dtype)

  rnn = nn.RNN(nn.SimpleCell(3, carry_init=carry_init))
  x = _x((2, 4, 3), 4)
  y = rnn.init_with_output(KEY, x)[0]
  assert seen and all(seen)
  expected = rnn.apply(rnn.init(KEY, x), x, init_key=jax.random.key(0))
  np.testing.assert_array_equal(y, expected)


def test_final_carry_with_several_batch_axes():
  # flaxen picks each sequence's last valid carry for any number of batch axes
  x = _x((2, 3, 5, 2), 9)
  lengths = jnp.array([[2, 5, 1], [3, 3, 4]])
  rnn = nn.RNN(nn.GRUCell(4), return_carry=True)
  variables = rnn.init(KEY, x)
  carry, _ = rnn.apply(variables, x, seq_lengths=lengths)
  for i in range(2):
    for j in range(3):
      single, _ = rnn.apply(variables, x[i:i + 1, j], seq_lengths=lengths[i:i + 1, j])
      np.testing.assert_allclose(carry[i, j], single[0], rtol=1e-6, atol=1e-6)


def test_flip_sequences():
  x = jnp.arange(8).reshape(2, 4)
  np.testing.assert_array_equal(
    np.asarray(recurrent.flip_sequences(x, None, num_batch_dims=1, time_major=False)),
    [[3, 2, 1, 0], [7, 6, 5, 4]])
  lengths = jnp.array([3, 1])
  np.testing.assert_array_equal(
    np.asarray(recurrent.flip_sequences(x, lengths, num_batch_dims=1, time_major=False))[:, :3],
    [[2, 1, 0], [4, 7, 6]])
  xt = x.T[..., None]
  out = recurrent.flip_sequences(xt, lengths, num_batch_dims=1, time_major=True)
  np.testing.assert_array_equal(np.asarray(out)[:3, 0, 0], [2, 1, 0])
  assert np.asarray(out)[0, 1, 0] == 4


class _DropoutCell(nn.RNNCellBase):
  """A cell that drops its input: shows whether the dropout key differs per step."""

  @nn.compact
  def __call__(self, carry, x):
    y = nn.Dropout(0.5, deterministic=False)(x)
    return carry, y

  @nn.nowrap
  def initialize_carry(self, rng, input_shape):
    return jnp.zeros(input_shape[:-1])

  @property
  def num_feature_axes(self):
    return 1


@pytest.mark.parametrize('split', [False, True])
def test_split_rngs_is_passed_to_scan(split):
  x = jnp.ones((1, 4, 32))
  rnn = nn.RNN(_DropoutCell(), split_rngs={'params': False, 'dropout': split})
  y = np.asarray(rnn.apply({}, x, rngs={'dropout': jax.random.PRNGKey(3)}))
  same = all(np.array_equal(y[0, 0], y[0, t]) for t in range(1, 4))
  assert same != split


def test_time_major_with_seq_lengths_and_reverse_matches_batch_major():
  x = _x((2, 5, 3), 9)
  lengths = jnp.array([5, 2])
  rnn = nn.RNN(nn.SimpleCell(2), return_carry=True, reverse=True, keep_order=True)
  variables = rnn.init(KEY, x, seq_lengths=lengths)
  c1, y1 = rnn.apply(variables, x, seq_lengths=lengths)
  c2, y2 = rnn.apply(variables, jnp.swapaxes(x, 0, 1), seq_lengths=lengths, time_major=True)
  np.testing.assert_allclose(np.asarray(c1), np.asarray(c2), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(y1), np.asarray(jnp.swapaxes(y2, 0, 1)), rtol=1e-6,
                             atol=1e-6)


def test_intercepted_method_names_are_the_references():
  # interceptors (and summaries built on them) see the scanned function as 'scan_fn'
  seen = []

  def record(next_fun, args, kwargs, context):
    seen.append((type(context.module).__name__, context.method_name))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(record):
    nn.RNN(nn.SimpleCell(3)).init(KEY, jnp.ones((2, 4, 3)))
  names = {name for name in seen if name[1] != '<lambda>'}
  assert names == {('RNN', '__call__'), ('SimpleCell', 'scan_fn'), ('SimpleCell', '__call__'),
                   ('Dense', '__call__')}
