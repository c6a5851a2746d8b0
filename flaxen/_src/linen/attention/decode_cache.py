"""The autoregressive decode cache of ``MultiHeadDotProductAttention``.

With ``decode=True`` the layer keeps three variables in the ``'cache'``
collection, created in this order: ``cached_key`` and ``cached_value``
(``[batch..., max_length, num_heads, head_dim]``, zeros, the dtype of the
projected key/value) and ``cache_index`` (an ``int32`` scalar, 0).

* During ``init`` (the cache does not exist yet) the variables are created from
  the shapes of the full-length projected key/value, and attention runs on the
  inputs unchanged.
* On later calls the query must hold exactly one position
  (``[batch..., 1, num_heads, head_dim]``). The new key/value slices are written
  at ``cache_index`` (``lax.dynamic_update_slice``, so a longer slice is
  accepted and clamped as lax does), the index advances by one, and the
  attention mask gains a term that hides the cache slots not written yet
  (``arange(max_length) <= index``).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from flaxen._src.linen._layer_utils import layer_error
from flaxen._src.linen.attention.masks import combine_masks
from flaxen._src.typing import Array


def update_decode_cache(
  module: Any, query: Array, key: Array, value: Array, mask: Array | None
) -> tuple[Array, Array, Array | None]:
  """Creates or advances the cache of ``module``; returns the key, value and mask to use.

  Args:
    module: the attention module (bound), whose ``'cache'`` collection is used.
    query: projected query ``[batch..., q_length, num_heads, head_dim]``.
    key: projected key of the current call.
    value: projected value of the current call.
    mask: the caller's mask, or ``None``.

  Returns:
    ``(key, value, mask)``: unchanged during initialization; otherwise the whole
    updated cache and the mask combined with the "already written" mask.

  Raises:
    ValueError: when the query is not a single position matching the cache's
      batch dims, heads and head size (the reference's message).
  """
  is_initialized = module.has_variable('cache', 'cached_key')
  cached_key = module.variable('cache', 'cached_key', jnp.zeros, key.shape, key.dtype)
  cached_value = module.variable('cache', 'cached_value', jnp.zeros, value.shape, value.dtype)
  cache_index = module.variable('cache', 'cache_index', lambda: jnp.array(0, dtype=jnp.int32))
  if not is_initialized:
    return key, value, mask

  *batch_dims, max_length, num_heads, depth_per_head = cached_key.value.shape
  expected = tuple(batch_dims) + (1, num_heads, depth_per_head)
  if expected != tuple(query.shape):
    raise layer_error(module, 'Autoregressive cache shape error, expected query shape '
                              f'{expected} instead got {query.shape}.',
                      hint='with decode=True every call after init feeds exactly one position, '
                           'with the batch shape used at init')

  cur_index = cache_index.value
  zero = jnp.array(0, dtype=lax.dtype(cur_index.dtype))
  indices = (zero,) * len(batch_dims) + (cur_index, zero, zero)
  key = lax.dynamic_update_slice(cached_key.value, key, indices)
  value = lax.dynamic_update_slice(cached_value.value, value, indices)
  cached_key.value = key
  cached_value.value = value
  cache_index.value = cache_index.value + 1

  written = jnp.broadcast_to(
    jnp.arange(max_length) <= cur_index, tuple(batch_dims) + (1, 1, max_length)
  )
  mask = combine_masks(mask, written)
  return key, value, mask
