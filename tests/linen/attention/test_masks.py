"""Tests of make_attention_mask, make_causal_mask and combine_masks (public API)."""

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


def test_attention_mask_padding_shape_and_values():
  q = jnp.array([[1, 1, 0], [1, 0, 0]]) > 0
  k = jnp.array([[1, 1, 1, 0], [1, 1, 0, 0]]) > 0
  mask = nn.make_attention_mask(q, k)
  assert mask.shape == (2, 1, 3, 4)
  assert mask.dtype == jnp.float32
  expected = np.asarray(q)[:, None, :, None] & np.asarray(k)[:, None, None, :]
  np.testing.assert_array_equal(np.asarray(mask), expected.astype(np.float32))


def test_attention_mask_pairwise_fn_extra_batch_dims_and_dtype():
  q = jnp.array([[0, 2, 4]])
  k = jnp.array([[1, 3]])
  mask = nn.make_attention_mask(q, k, pairwise_fn=jnp.greater_equal, extra_batch_dims=2,
                                dtype=jnp.int32)
  assert mask.shape == (1, 1, 1, 1, 3, 2)
  assert mask.dtype == jnp.int32
  np.testing.assert_array_equal(np.asarray(mask)[0, 0, 0, 0], [[0, 0], [1, 0], [1, 1]])


def test_causal_mask_is_lower_triangular_for_every_batch_element():
  x = jnp.zeros((3, 5), jnp.int32)
  mask = nn.make_causal_mask(x)
  assert mask.shape == (3, 1, 5, 5)
  for b in range(3):
    np.testing.assert_array_equal(np.asarray(mask[b, 0]), np.tril(np.ones((5, 5))))


def test_causal_mask_extra_batch_dims_and_bool_dtype():
  mask = nn.make_causal_mask(jnp.zeros((2, 4)), extra_batch_dims=1, dtype=jnp.bool_)
  assert mask.shape == (1, 2, 1, 4, 4)
  assert mask.dtype == jnp.bool_


def test_causal_mask_of_a_scalar_is_the_references_index_error():
  with pytest.raises(IndexError, match=r'^make_causal_mask: tuple index out of range'):
    nn.make_causal_mask(jnp.float32(1.0))


def test_masks_accept_lists():
  np.testing.assert_array_equal(nn.make_causal_mask([1, 2, 3]),
                                nn.make_causal_mask(jnp.array([1, 2, 3])))
  np.testing.assert_array_equal(nn.combine_masks([1, 0], [1, 1]), [1.0, 0.0])


def test_combine_masks_skips_none_and_ands():
  a = jnp.array([[True, True, False]])
  b = jnp.array([[True, False, False]])
  out = nn.combine_masks(a, None, b)
  np.testing.assert_array_equal(np.asarray(out), [[1.0, 0.0, 0.0]])
  assert out.dtype == jnp.float32
  assert nn.combine_masks(a, dtype=jnp.bool_).dtype == jnp.bool_


def test_combine_masks_all_none_returns_none():
  assert nn.combine_masks(None, None) is None
  assert nn.combine_masks() is None


def test_combine_masks_rank_mismatch_is_the_references_assertion():
  with pytest.raises(AssertionError) as info:
    nn.combine_masks(jnp.ones((2, 2)), None, jnp.ones((2,)))
  assert isinstance(info.value, ValueError)
  assert 'masks must have same rank: (2, 1)' in str(info.value)
