"""Attention masks: padding masks, causal masks and their combination.

A mask is an array broadcastable to the attention weights'
``[batch..., num_heads, q_length, kv_length]`` shape, where a true (non-zero)
entry means "this query may attend to this key". The helpers here build masks
with a singleton head axis (``[batch..., 1, q_length, kv_length]``) so one mask
serves every head.

Invariants:
  * masks are plain arrays of the requested ``dtype`` (``float32`` by default,
    as in the reference), never booleans unless asked for;
  * ``combine_masks`` ignores ``None`` entries and returns ``None`` when nothing
    is left, so callers can pass optional masks straight through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from flaxen._src.linen._layer_utils import TUPLE_INDEX, BadLayerInput
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype


@set_module('flaxen.linen')
def make_attention_mask(
  query_input: Array,
  key_input: Array,
  pairwise_fn: Callable[..., Any] = jnp.multiply,
  extra_batch_dims: int = 0,
  dtype: Dtype = jnp.float32,
) -> Array:
  """Builds a ``[batch..., 1, len_q, len_kv]`` mask from two per-position arrays.

  Entry ``[..., 0, i, j]`` is ``pairwise_fn(query_input[..., i], key_input[..., j])``.
  A typical use is a padding mask: ``make_attention_mask(tokens > 0, tokens > 0)``.

  Args:
    query_input: ``[batch..., len_q]`` values for the query positions.
    key_input: ``[batch..., len_kv]`` values for the key positions.
    pairwise_fn: binary function combining one query and one key value.
    extra_batch_dims: number of leading singleton axes to add (for example for
      a vmapped batch axis).
    dtype: dtype of the returned mask.

  Returns:
    The mask, shaped ``[1] * extra_batch_dims + [batch..., 1, len_q, len_kv]``.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.make_attention_mask(jnp.ones((2, 3)), jnp.ones((2, 5))).shape
    (2, 1, 3, 5)
  """
  mask = pairwise_fn(
    jnp.expand_dims(query_input, axis=-1), jnp.expand_dims(key_input, axis=-2)
  )
  mask = jnp.expand_dims(mask, axis=-3)
  mask = jnp.expand_dims(mask, axis=tuple(range(extra_batch_dims)))
  return mask.astype(dtype)


@set_module('flaxen.linen')
def make_causal_mask(
  x: Array, extra_batch_dims: int = 0, dtype: Dtype = jnp.float32
) -> Array:
  """Builds a lower-triangular ``[batch..., 1, len, len]`` mask for self-attention.

  Position ``i`` may attend to positions ``j <= i``. Only the shape of ``x``
  (``[batch..., len]``) is used.

  Args:
    x: array whose last axis is the sequence axis.
    extra_batch_dims: number of leading singleton axes to add.
    dtype: dtype of the returned mask.

  Returns:
    The causal mask.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.make_causal_mask(jnp.ones((1, 3)))[0, 0].astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
  """
  shape = np.shape(x)
  if not shape:
    raise IndexError(f'make_causal_mask: {TUPLE_INDEX} (x must have at least one axis, the '
                     'sequence axis; got a scalar)')
  positions = jnp.broadcast_to(jnp.arange(shape[-1], dtype=jnp.int32), shape)
  return make_attention_mask(
    positions,
    positions,
    jnp.greater_equal,
    extra_batch_dims=extra_batch_dims,
    dtype=dtype,
  )


@set_module('flaxen.linen')
def combine_masks(*masks: Array | None, dtype: Dtype = jnp.float32) -> Array | None:
  """Logical AND of every mask that is not ``None``.

  Args:
    *masks: masks of one rank (``None`` entries are skipped).
    dtype: dtype of the result.

  Returns:
    The combined mask as ``dtype``, or ``None`` if every mask was ``None``.

  Raises:
    AssertionError (``BadLayerInput``, also a ``ValueError``): when the masks'
      ranks differ (the reference's message).

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.combine_masks(jnp.array([True, True]), None, jnp.array([True, False])).tolist()
    [1.0, 0.0]
  """
  present = [jnp.asarray(m) for m in masks if m is not None]
  if not present:
    return None
  ranks = tuple(m.ndim for m in present)
  if len(set(ranks)) > 1:
    raise BadLayerInput(f'combine_masks: masks must have same rank: {ranks}')
  combined = present[0]
  for other in present[1:]:
    combined = jnp.logical_and(combined, other)
  return combined.astype(dtype)
