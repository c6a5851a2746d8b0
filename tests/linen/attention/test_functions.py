"""Tests of dot_product_attention(_weights) against a plain numpy computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


def _qkv(seed=0, batch=(2,), q_len=3, kv_len=4, heads=2, depth=5, v_depth=6):
  rng = np.random.default_rng(seed)
  q = rng.standard_normal(batch + (q_len, heads, depth)).astype(np.float32)
  k = rng.standard_normal(batch + (kv_len, heads, depth)).astype(np.float32)
  v = rng.standard_normal(batch + (kv_len, heads, v_depth)).astype(np.float32)
  return q, k, v


def _np_weights(q, k, bias=None, mask=None):
  logits = np.einsum('...qhd,...khd->...hqk', q / np.sqrt(q.shape[-1]), k)
  if bias is not None:
    logits = logits + bias
  if mask is not None:
    logits = np.where(mask, logits, np.finfo(np.float32).min)
  logits = logits - logits.max(-1, keepdims=True)
  e = np.exp(logits)
  return e / e.sum(-1, keepdims=True)


def test_weights_match_numpy():
  q, k, _ = _qkv()
  w = nn.dot_product_attention_weights(jnp.asarray(q), jnp.asarray(k))
  assert w.shape == (2, 2, 3, 4)
  np.testing.assert_allclose(np.asarray(w), _np_weights(q, k), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(w).sum(-1), 1.0, rtol=1e-6)


def test_attention_matches_numpy_with_mask_and_bias():
  q, k, v = _qkv(1)
  rng = np.random.default_rng(5)
  mask = rng.random((2, 1, 3, 4)) < 0.7
  mask[..., 0] = True  # every query sees at least one key
  bias = rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
  out = nn.dot_product_attention(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v),
                                 bias=jnp.asarray(bias), mask=jnp.asarray(mask))
  expected = np.einsum('...hqk,...khd->...qhd', _np_weights(q, k, bias, mask), v)
  assert out.shape == (2, 3, 2, 6)
  np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-5)


def test_masked_keys_get_zero_weight():
  q, k, _ = _qkv(2)
  mask = np.ones((2, 1, 3, 4), bool)
  mask[..., 2] = False
  w = nn.dot_product_attention_weights(jnp.asarray(q), jnp.asarray(k), mask=jnp.asarray(mask))
  np.testing.assert_array_equal(np.asarray(w)[..., 2], 0.0)


def test_no_batch_dims():
  q, k, v = _qkv(3, batch=())
  out = nn.dot_product_attention(q, k, v)
  assert out.shape == (3, 2, 6)


def test_dropout_is_deterministic_per_key_and_rescales():
  q, k, v = _qkv(4, batch=(4,), q_len=8, kv_len=8)
  base = nn.dot_product_attention_weights(q, k)
  kwargs = dict(dropout_rate=0.5, deterministic=False, broadcast_dropout=False)
  w1 = nn.dot_product_attention_weights(q, k, dropout_rng=jax.random.PRNGKey(0), **kwargs)
  w2 = nn.dot_product_attention_weights(q, k, dropout_rng=jax.random.PRNGKey(0), **kwargs)
  np.testing.assert_array_equal(np.asarray(w1), np.asarray(w2))
  kept = np.asarray(w1) != 0
  assert 0.3 < kept.mean() < 0.7
  np.testing.assert_allclose(np.asarray(w1)[kept], 2 * np.asarray(base)[kept], rtol=1e-6)


def test_broadcast_dropout_shares_mask_over_batch_and_heads():
  q, k, _ = _qkv(5, batch=(3,), q_len=6, kv_len=6)
  w = nn.dot_product_attention_weights(q, k, dropout_rng=jax.random.PRNGKey(1),
                                       dropout_rate=0.5, deterministic=False)
  dropped = np.asarray(w) == 0
  assert dropped.any()
  for b in range(3):
    for h in range(2):
      np.testing.assert_array_equal(dropped[b, h], dropped[0, 0])


def test_deterministic_or_zero_rate_means_no_dropout():
  q, k, _ = _qkv(6)
  base = nn.dot_product_attention_weights(q, k)
  for kw in (dict(deterministic=True, dropout_rate=0.5), dict(deterministic=False)):
    w = nn.dot_product_attention_weights(q, k, dropout_rng=jax.random.PRNGKey(0), **kw)
    np.testing.assert_array_equal(np.asarray(w), np.asarray(base))


def test_dropout_without_rng_fails_in_jax_as_in_the_reference():
  q, k, v = _qkv(7)
  with pytest.raises(TypeError, match="unexpected PRNG key type <class 'NoneType'>"):
    nn.dot_product_attention(q, k, v, dropout_rate=0.1, deterministic=False)


def test_dtype_promotion_and_force_fp32_softmax():
  q, k, v = (jnp.asarray(a, jnp.bfloat16) for a in _qkv(8))
  assert nn.dot_product_attention(q, k, v).dtype == jnp.bfloat16
  assert nn.dot_product_attention(q, k, v, dtype=jnp.float32).dtype == jnp.float32
  w = nn.dot_product_attention_weights(q, k, force_fp32_for_softmax=True)
  assert w.dtype == jnp.float32
  ints = jnp.ones((1, 2, 1, 3), jnp.int32)
  assert nn.dot_product_attention(ints, ints, ints).dtype == jnp.float32


def test_custom_einsums_get_the_operands_only():
  q, k, v = _qkv(9)
  calls = []

  def my_einsum(equation, a, b, **kwargs):
    calls.append((equation, sorted(kwargs)))
    return jnp.einsum(equation, a, b)

  out = nn.dot_product_attention(q, k, v, qk_attn_weights_einsum=my_einsum,
                                 attn_weights_value_einsum=my_einsum)
  assert calls == [('...qhd,...khd->...hqk', []), ('...hqk,...khd->...qhd', [])]
  np.testing.assert_allclose(np.asarray(out), np.asarray(nn.dot_product_attention(q, k, v)),
                             rtol=1e-5, atol=1e-6)


def test_precision_and_dot_general_reach_the_default_einsum():
  q, k, v = _qkv(9)
  seen = []

  def my_dot(lhs, rhs, dims, precision=None, preferred_element_type=None, **kw):
    seen.append(precision)
    return jax.lax.dot_general(lhs, rhs, dims, precision=precision,
                               preferred_element_type=preferred_element_type)

  nn.dot_product_attention(q, k, v, precision=jax.lax.Precision.HIGHEST,
                           einsum_dot_general=my_dot)
  assert len(seen) == 2
  assert all(p in (jax.lax.Precision.HIGHEST,
                   (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)) for p in seen)


@pytest.mark.parametrize('call, text', [
  (lambda q, k, v: nn.dot_product_attention(q, k, v, precision='highest',
                                            qk_attn_weights_einsum=jnp.einsum,
                                            attn_weights_value_einsum=jnp.einsum),
   'precision/einsum_dot_general and qk_attn_weights_einsum/attn_weights_value_einsum are '
   'mutually exclusive. Please specify only one of them.'),
  (lambda q, k, v: nn.dot_product_attention(q, k, v, qk_attn_weights_einsum=jnp.einsum),
   'qk_attn_weights_einsum and attn_weights_value_einsum must be specified together.'),
  (lambda q, k, v: nn.dot_product_attention_weights(q, k, precision='highest',
                                                    einsum=jnp.einsum),
   'precision/einsum_dot_general and einsum are mutually exclusive. Please specify only one '
   'of them.'),
])
def test_einsum_argument_errors_are_the_references(call, text):
  with pytest.raises(ValueError) as info:
    call(*_qkv(11))
  assert text in str(info.value)


def test_jit_matches_eager():
  q, k, v = _qkv(10)
  eager = nn.dot_product_attention(q, k, v)
  jitted = jax.jit(nn.dot_product_attention)(q, k, v)
  np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('fn, shapes, text', [
  ('dpa', ((2, 3, 2, 4), (2, 5, 2, 4, 1), (2, 5, 2, 4)), 'q, k, v must have same rank.'),
  ('dpa', ((2, 3, 2, 4), (3, 5, 2, 4), (3, 5, 2, 4)), 'q, k, v batch dims must match.'),
  ('dpa', ((2, 3, 2, 4), (2, 5, 3, 4), (2, 5, 3, 4)), 'q, k, v num_heads must match.'),
  ('dpa', ((2, 3, 2, 4), (2, 5, 2, 4), (2, 5, 3, 4)), 'q, k, v num_heads must match.'),
  ('dpa', ((2, 3, 2, 4), (2, 5, 2, 5), (2, 5, 2, 4)), 'q, k depths must match.'),
  ('dpa', ((2, 3, 2, 4), (2, 5, 2, 4), (2, 6, 2, 4)), 'k, v lengths must match.'),
  ('weights', ((2, 3, 2, 4), (5, 2, 4)), 'q, k must have same rank.'),
  ('weights', ((2, 3, 2, 4), (1, 3, 2, 4)), 'q, k batch dims must match.'),
  ('weights', ((2, 3, 2, 4), (2, 3, 1, 4)), 'q, k num_heads must match.'),
])
def test_bad_shapes_are_the_references_assertions(fn, shapes, text):
  arrays = [jnp.ones(s) for s in shapes]
  call = nn.dot_product_attention if fn == 'dpa' else nn.dot_product_attention_weights
  with pytest.raises(AssertionError) as info:
    call(*arrays)
  assert isinstance(info.value, ValueError)  # also caught by `except ValueError`
  assert text in str(info.value)


def test_too_low_rank_is_the_references_index_error():
  x = jnp.ones((4, 5))
  with pytest.raises(IndexError, match='tuple index out of range'):
    nn.dot_product_attention(x, x, x)
