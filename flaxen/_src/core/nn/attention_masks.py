"""Masks of the functional attention layer: padding / segmentation masks and the causal mask.

Shapes follow the reference's ``flax.core.nn.attention``: for inputs
``(batch, *attention_dims, heads, channels)`` a mask has shape
``(batch or 1, 1, *query_attention_dims, *key_attention_dims)`` (one entry per query/key
pair, broadcast over heads).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.public import set_module
from flaxen._src.typing import Array

_AXIS_ERROR = 'Attention axis must be between the batch axis and the last-two axes.'


def check_attention_axes(ndim: int, attention_axis: tuple[int, ...]) -> None:
  """Raises the reference's ``ValueError`` unless every axis lies in ``[1, ndim - 2)``."""
  for ax in attention_axis:
    if ndim < 3 or not 1 <= ax < ndim - 2:
      raise ValueError(_AXIS_ERROR)


def _default_axes(ndim: int, attention_axis: tuple[int, ...] | None) -> tuple[int, ...]:
  axes = tuple(range(1, ndim - 2)) if attention_axis is None else attention_axis
  assert isinstance(axes, tuple)
  check_attention_axes(ndim, axes)
  return axes


@set_module('flaxen.core.nn.attention')
def make_padding_mask(
  padding_mask_query: Array,
  padding_mask_key: Array,
  query_shape: Sequence[int],
  key_shape: Sequence[int],
  attention_axis: tuple[int, ...] | None = None,
  segmentation_mask: bool = False,
) -> Array:
  """A float32 mask of the query/key pairs that are both real tokens (or same-segment).

  Args:
    padding_mask_query: ``(batch, *query_dims)``: nonzero for real query tokens (or
      segment ids when ``segmentation_mask``).
    padding_mask_key: the same for the keys.
    query_shape: shape of the (projected) query.
    key_shape: shape of the key (and value).
    attention_axis: the attention axes (default: all but batch, heads and channels).
    segmentation_mask: compare segment ids for equality instead of multiplying flags.

  Returns:
    The mask, ``(batch, 1, *query_dims, *key_dims)``, in float32.
  """
  assert query_shape[0] == key_shape[0]
  assert len(query_shape) == len(key_shape)
  axes = _default_axes(len(key_shape), attention_axis)
  final_shape = (
    (query_shape[0], 1) + tuple(query_shape[a] for a in axes) + tuple(key_shape[a] for a in axes)
  )
  q = padding_mask_query[..., None]
  k = padding_mask_key[..., None]
  # keep the batch axis in front and reverse the others, e.g. (b, t, 1) -> (b, 1, t)
  k_t = k.transpose((0,) + tuple(np.flip(np.arange(k.ndim)))[:-1])
  pair = jnp.equal(q, k_t) if segmentation_mask else jnp.multiply(q, k_t)
  return lax.convert_element_type(pair.reshape(final_shape), jnp.float32)


def _lower_triangle(n: int, m: int, k: int = 0) -> Array:
  """``mask[i, j] = i + k >= j`` built from iotas (traced, so XLA can fuse it)."""
  row_ids = jnp.arange(n, dtype=jnp.int32)
  col_ids = jnp.arange(m, dtype=jnp.int32)
  rows = lax.broadcast_in_dim(row_ids, shape=(n, m), broadcast_dimensions=(0,)) + k
  return lax.ge(rows, lax.broadcast(col_ids, [n]))


def make_causal_mask(key: Array, attention_axis: tuple[int, ...] | None = None,
                     self_mask: bool = False) -> Array:
  """The boolean mask of the pairs where the key position does not follow the query's.

  Multi-dimensional attention axes are flattened in row-major order to define "follows".

  Args:
    key: the key array (its shape is used).
    attention_axis: the attention axes.
    self_mask: also mask each position's own pair (the diagonal).

  Returns:
    A mask of shape ``(1, ..., 1, *attn_dims, *attn_dims)``.
  """
  axes = _default_axes(key.ndim, attention_axis)
  lead = (1,) * (key.ndim - len(axes) - 1)
  attn_dims = tuple(key.shape[a] for a in axes)
  flat = math.prod(attn_dims)
  tri = _lower_triangle(flat, flat, k=-1 if self_mask else 0)
  return tri.reshape(lead + attn_dims + attn_dims)
