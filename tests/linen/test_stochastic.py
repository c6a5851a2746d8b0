"""Dropout: merge of `deterministic`, mask law, broadcast dims, rng streams, edge rates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn

X = jnp.asarray(np.random.default_rng(0).standard_normal((4, 6)), jnp.float32)


def test_mask_is_bernoulli_of_make_rng_and_scaled():
  layer = nn.Dropout(rate=0.5)
  key = jax.random.PRNGKey(1)
  y = layer.apply({}, X, deterministic=False, rngs={'dropout': key})
  # Root module, first make_rng('dropout'): fold_in(key, H(b'\x01')), H = sha1 prefix.
  import hashlib
  h = int.from_bytes(hashlib.sha1(b'\x01').digest()[:4], 'big')
  mask = jax.random.bernoulli(jax.random.fold_in(key, jnp.uint32(h)), 0.5, X.shape)
  np.testing.assert_array_equal(y, np.where(mask, X / 0.5, 0.0))


def test_deterministic_field_or_call():
  np.testing.assert_array_equal(nn.Dropout(0.5, deterministic=True).apply({}, X), X)
  np.testing.assert_array_equal(nn.Dropout(0.5).apply({}, X, deterministic=True), X)
  with pytest.raises(ValueError, match='deterministic'):
    nn.Dropout(0.5).apply({}, X)
  with pytest.raises(ValueError, match='deterministic'):
    nn.Dropout(0.5, deterministic=True).apply({}, X, deterministic=False)


def test_rate_zero_and_one():
  np.testing.assert_array_equal(nn.Dropout(0.0).apply({}, X, deterministic=False), X)
  y = nn.Dropout(1.0).apply({}, X, deterministic=False)
  np.testing.assert_array_equal(y, np.zeros_like(X))
  g = jax.grad(lambda x: nn.Dropout(1.0).apply({}, x, deterministic=False).sum())(X)
  assert bool(jnp.isfinite(g).all())


def test_broadcast_dims_share_the_mask():
  x = jnp.ones((3, 5, 4))
  y = nn.Dropout(0.3, broadcast_dims=(1,)).apply({}, x, deterministic=False,
                                                 rngs={'dropout': jax.random.PRNGKey(7)})
  y = np.asarray(y)
  assert (y == y[:, :1, :]).all()
  assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}


def test_custom_rng_collection_and_explicit_rng():
  layer = nn.Dropout(0.5, rng_collection='noise')
  a = layer.apply({}, X, deterministic=False, rngs={'noise': jax.random.PRNGKey(3)})
  b = layer.apply({}, X, deterministic=False, rngs={'noise': jax.random.PRNGKey(4)})
  assert not np.array_equal(a, b)
  c = nn.Dropout(0.5).apply({}, X, deterministic=False, rng=jax.random.PRNGKey(5))
  mask = jax.random.bernoulli(jax.random.PRNGKey(5), 0.5, X.shape)
  np.testing.assert_array_equal(c, np.where(mask, X * 2, 0.0))


def test_missing_rng_is_an_invalid_rng_error_with_the_reference_text():
  with pytest.raises(errors.InvalidRngError) as info:
    nn.Dropout(0.5).apply({}, X, deterministic=False)
  assert 'None needs PRNG for "dropout" (https://' in str(info.value)
  assert str(info.value).startswith('Dropout "/" draws its dropout mask from the "dropout" stream')


def test_params_stream_is_the_fallback():
  a = nn.Dropout(0.5).apply({}, X, deterministic=False, rngs={'params': jax.random.PRNGKey(3)})
  assert a.shape == X.shape


def test_any_rate_is_used_as_given():
  # no range check, as in the reference: rate 1.5 keeps nothing, rate -0.5 scales by 2/3
  rngs = {'dropout': jax.random.PRNGKey(0)}
  np.testing.assert_array_equal(nn.Dropout(1.5).apply({}, X, deterministic=False, rngs=rngs),
                                np.zeros(X.shape))
  np.testing.assert_allclose(nn.Dropout(-0.5).apply({}, X, deterministic=False, rngs=rngs),
                             X / 1.5, rtol=1e-6)


def test_broadcast_dims_out_of_range_is_the_references_index_error():
  with pytest.raises(IndexError, match=r'^Dropout "/": list assignment index out of range'):
    nn.Dropout(0.5, broadcast_dims=(X.ndim,)).apply({}, X, deterministic=False,
                                                    rngs={'dropout': jax.random.PRNGKey(0)})
