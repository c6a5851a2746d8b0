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


def test_dropout_without_rng_is_a_clear_error():
  q, k, v = _qkv(7)
  with pytest.raises(ValueError, match='dropout_rng'):
    nn.dot_product_attention(q, k, v, dropout_rate=0.1, deterministic=False)


def test_dtype_promotion_and_force_fp32_softmax():
  q, k, v = (jnp.asarray(a, jnp.bfloat16) for a in _qkv(8))
  assert nn.dot_product_attention(q, k, v).dtype == jnp.bfloat16
  assert nn.dot_product_attention(q, k, v, dtype=jnp.float32).dtype == jnp.float32
  w = nn.dot_product_attention_weights(q, k, force_fp32_for_softmax=True)
  assert w.dtype == jnp.float32
  ints = jnp.ones((1, 2, 1, 3), jnp.int32)
  assert nn.dot_product_attention(ints, ints, ints).dtype == jnp.float32


def test_precision_and_custom_einsum_are_used():
  q, k, v = _qkv(9)
  calls = []

  def my_einsum(*args, **kwargs):
    calls.append(kwargs.get('precision'))
    return jnp.einsum(*args, **kwargs)

  out = nn.dot_product_attention(q, k, v, precision=jax.lax.Precision.HIGHEST,
                                 qk_attn_weights_einsum=my_einsum,
                                 attn_weights_value_einsum=my_einsum)
  assert calls == [jax.lax.Precision.HIGHEST] * 2
  np.testing.assert_allclose(np.asarray(out), np.asarray(nn.dot_product_attention(q, k, v)),
                             rtol=1e-5, atol=1e-6)


def test_jit_matches_eager():
  q, k, v = _qkv(10)
  eager = nn.dot_product_attention(q, k, v)
  jitted = jax.jit(nn.dot_product_attention)(q, k, v)
  np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('shapes, match', [
  (((2, 3, 2, 4), (2, 5, 2, 4, 1), (2, 5, 2, 4)), 'same rank'),
  (((2, 3, 2, 4), (3, 5, 2, 4), (3, 5, 2, 4)), 'batch dims'),
  (((2, 3, 2, 4), (2, 5, 3, 4), (2, 5, 3, 4)), 'num_heads'),
  (((2, 3, 2, 4), (2, 5, 2, 5), (2, 5, 2, 4)), 'depths'),
  (((2, 3, 2, 4), (2, 5, 2, 4), (2, 6, 2, 4)), 'lengths'),
])
def test_bad_shapes_are_value_and_assertion_errors(shapes, match):
  q, k, v = (jnp.ones(s) for s in shapes)
  with pytest.raises(ValueError, match=match):
    nn.dot_product_attention(q, k, v)
  with pytest.raises(AssertionError):
    nn.dot_product_attention(q, k, v)
