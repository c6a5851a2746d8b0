"""flaxen.core.nn.attention's masks: padding / segmentation masks and the causal mask."""

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen._src.core.nn.attention_masks import make_causal_mask
from flaxen.core.nn import attention


def test_padding_mask_is_the_outer_product_of_flags():
  flags = jnp.array([[1, 1, 0]])
  mask = attention.make_padding_mask(flags, flags, (1, 3, 2, 4), (1, 3, 2, 4))
  assert mask.dtype == jnp.float32
  assert mask.shape == (1, 1, 3, 3)
  np.testing.assert_array_equal(mask[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_segmentation_mask_compares_segment_ids():
  q = jnp.array([[1, 1, 2]])
  k = jnp.array([[1, 2, 2, 2]])
  mask = attention.make_padding_mask(q, k, (1, 3, 1, 4), (1, 4, 1, 4), segmentation_mask=True)
  np.testing.assert_array_equal(mask[0, 0], [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 1]])


def test_padding_mask_over_two_axes_fails_as_in_the_reference():
  # the reference's mask is built for one attention axis; with two it cannot reshape
  flags = jnp.ones((2, 3, 4))
  with pytest.raises(TypeError, match="cannot reshape array"):
    attention.make_padding_mask(flags, flags, (2, 3, 4, 1, 5), (2, 3, 4, 1, 5),
                                attention_axis=(1, 2))


def test_padding_mask_checks_the_attention_axes():
  with pytest.raises(ValueError, match="Attention axis must be between the batch axis and "
                                       "the last-two axes."):
    attention.make_padding_mask(jnp.ones((1, 3)), jnp.ones((1, 3)), (1, 3, 2, 4), (1, 3, 2, 4),
                                attention_axis=(2,))


def test_causal_mask():
  key = jnp.zeros((2, 3, 1, 4))
  mask = make_causal_mask(key)
  assert mask.shape == (1, 1, 3, 3)
  np.testing.assert_array_equal(mask[0, 0], np.tril(np.ones((3, 3), bool)))
  strict = make_causal_mask(key, self_mask=True)
  np.testing.assert_array_equal(strict[0, 0], np.tril(np.ones((3, 3), bool), -1))


def test_causal_mask_flattens_several_axes_in_row_major_order():
  mask = make_causal_mask(jnp.zeros((1, 2, 2, 1, 3)), attention_axis=(1, 2))
  assert mask.shape == (1, 1, 2, 2, 2, 2)
  np.testing.assert_array_equal(mask.reshape(4, 4), np.tril(np.ones((4, 4), bool)))
