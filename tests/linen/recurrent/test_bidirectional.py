"""Tests of Bidirectional."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_params_and_output_are_forward_and_reversed_backward():
  bi = nn.Bidirectional(nn.RNN(nn.LSTMCell(3)), nn.RNN(nn.GRUCell(3)))
  x = _x((2, 5, 2))
  variables = bi.init(KEY, x)
  p = variables['params']
  assert list(p) == ['forward_rnn', 'backward_rnn']
  out = bi.apply(variables, x)
  assert out.shape == (2, 5, 6)
  fwd = nn.RNN(nn.LSTMCell(3)).apply({'params': p['forward_rnn']}, x)
  bwd = nn.RNN(nn.GRUCell(3)).apply({'params': p['backward_rnn']}, x, reverse=True,
                                     keep_order=True)
  np.testing.assert_allclose(np.asarray(out), np.asarray(jnp.concatenate([fwd, bwd], -1)),
                             rtol=1e-6, atol=1e-6)


def test_return_carry_seq_lengths_and_merge_fn():
  bi = nn.Bidirectional(nn.RNN(nn.SimpleCell(2)), nn.RNN(nn.SimpleCell(2)), return_carry=True,
                        merge_fn=lambda a, b: a + b)
  x = _x((2, 5, 2), 1)
  lengths = jnp.array([5, 3])
  variables = bi.init(KEY, x, seq_lengths=lengths)
  (cf, cb), out = bi.apply(variables, x, seq_lengths=lengths)
  assert out.shape == (2, 5, 2) and cf.shape == cb.shape == (2, 2)
  p = variables['params']
  ecf, fwd = nn.RNN(nn.SimpleCell(2), return_carry=True).apply(
    {'params': p['forward_rnn']}, x, seq_lengths=lengths)
  ecb, bwd = nn.RNN(nn.SimpleCell(2), return_carry=True).apply(
    {'params': p['backward_rnn']}, x, seq_lengths=lengths, reverse=True, keep_order=True)
  np.testing.assert_allclose(np.asarray(out), np.asarray(fwd + bwd), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(cf), np.asarray(ecf), rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.asarray(cb), np.asarray(ecb), rtol=1e-6, atol=1e-6)


def test_time_major_and_initial_carry():
  bi = nn.Bidirectional(nn.RNN(nn.GRUCell(2)), nn.RNN(nn.GRUCell(2)), time_major=True)
  x = _x((5, 3, 2), 2)
  variables = bi.init(KEY, x)
  assert bi.apply(variables, x).shape == (5, 3, 4)
  carry = (jnp.ones((3, 2)), jnp.zeros((3, 2)))
  a = bi.apply(variables, x, initial_carry=carry)
  b = bi.apply(variables, x)
  assert not np.allclose(np.asarray(a), np.asarray(b))
  # a carry that is not a (forward, backward) pair is unpacked as the reference unpacks it
  with pytest.raises(ValueError, match='too many values to unpack'):
    bi.apply(variables, x, initial_carry=(carry[0], carry[1], carry[0]))


def test_init_key_is_split_between_the_directions():
  cell = lambda: nn.GRUCell(2, carry_init=nn.initializers.normal(1.0))  # noqa: E731
  bi = nn.Bidirectional(nn.RNN(cell()), nn.RNN(cell()), return_carry=True)
  x = _x((3, 4, 2), 3)
  variables = bi.init(KEY, x)
  key = jax.random.PRNGKey(7)
  (cf, cb), _ = bi.apply(variables, x, init_key=key)
  kf, kb = jax.random.split(key)
  carry_f = cell().initialize_carry(kf, (3, 2))
  carry_b = cell().initialize_carry(kb, (3, 2))
  (ef, eb), _ = bi.apply(variables, x, initial_carry=(carry_f, carry_b))
  np.testing.assert_array_equal(cf, ef)
  np.testing.assert_array_equal(cb, eb)
