"""Tests of the autoregressive decode cache of MultiHeadDotProductAttention."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def test_cache_variables_created_at_init():
  layer = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8, decode=True)
  variables = layer.init(KEY, jnp.zeros((3, 6, 5)))
  assert list(variables) == ['params', 'cache']
  cache = variables['cache']
  assert list(cache) == ['cached_key', 'cached_value', 'cache_index']
  assert cache['cached_key'].shape == (3, 6, 2, 4)
  assert cache['cached_value'].shape == (3, 6, 2, 4)
  assert cache['cache_index'].dtype == jnp.int32 and int(cache['cache_index']) == 0
  np.testing.assert_array_equal(np.asarray(cache['cached_key']), 0.0)


def test_decoding_step_by_step_equals_causal_attention():
  length = 5
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, length, 6)), jnp.float32)
  full = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8)
  params = full.init(KEY, x)['params']
  expected = full.apply({'params': params}, x, mask=nn.make_causal_mask(x[..., 0]))

  dec = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8, decode=True)
  cache = dec.init(KEY, jnp.zeros_like(x))['cache']
  step = jax.jit(lambda c, t: dec.apply({'params': params, 'cache': c}, t, mutable=['cache']))
  outs = []
  for t in range(length):
    out, mutated = step(cache, x[:, t:t + 1])
    cache = mutated['cache']
    outs.append(out)
    assert int(cache['cache_index']) == t + 1
  np.testing.assert_allclose(np.asarray(jnp.concatenate(outs, axis=1)), np.asarray(expected),
                             rtol=1e-5, atol=1e-5)


def test_decode_query_shape_mismatch_carries_the_reference_text():
  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.MultiHeadDotProductAttention(num_heads=2, decode=True, name='dec')(x)

  variables = Outer().init(KEY, jnp.zeros((2, 4, 4)))
  with pytest.raises(ValueError) as info:
    Outer().apply(variables, jnp.zeros((2, 2, 4)), mutable=['cache'])
  assert str(info.value).startswith(
    'MultiHeadDotProductAttention "/dec": Autoregressive cache shape error, expected query '
    'shape (2, 1, 2, 2) instead got (2, 2, 2, 2).')
  with pytest.raises(ValueError, match='cache shape error'):
    Outer().apply(variables, jnp.zeros((3, 1, 4)), mutable=['cache'])


def test_decode_with_user_mask_is_combined():
  x = jnp.ones((1, 3, 4))
  dec = nn.MultiHeadDotProductAttention(num_heads=2, decode=True)
  variables = dec.init(KEY, x)
  # a mask that hides everything but slot 0 gives the same result as attending only to slot 0
  mask = jnp.zeros((1, 1, 1, 3), bool).at[..., 0].set(True)
  tok = jnp.asarray(np.random.default_rng(1).standard_normal((1, 1, 4)), jnp.float32)
  state = {'params': variables['params'], 'cache': variables['cache']}
  a, _ = dec.apply(state, tok, mask=mask, mutable=['cache'])
  b, _ = dec.apply(state, tok, mutable=['cache'])
  np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


def test_decode_accepts_longer_key_value_slices_like_the_reference():
  # only the query must be one position; lax.dynamic_update_slice writes the longer slice
  dec = nn.MultiHeadDotProductAttention(num_heads=2, decode=True)
  variables = dec.init(KEY, jnp.ones((1, 4, 4)))
  y, state = dec.apply(variables, jnp.ones((1, 1, 4)), jnp.ones((1, 2, 4)), mutable=['cache'])
  assert y.shape == (1, 1, 4) and int(state['cache']['cache_index']) == 1
