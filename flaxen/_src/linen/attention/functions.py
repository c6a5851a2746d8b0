"""Scaled dot-product attention as plain functions.

Layout (the reference's): ``query [batch..., q_length, num_heads, qk_depth]``,
``key [batch..., kv_length, num_heads, qk_depth]``, ``value [batch...,
kv_length, num_heads, v_depth]``; the weights are ``[batch..., num_heads,
q_length, kv_length]``.

Numerics follow the reference step by step so results match bit for bit on
the same backend: promote q/k(/v) to one dtype, divide the *query* by
``sqrt(depth)`` (cast to that dtype), ``einsum('...qhd,...khd->...hqk')``, add
``bias``, replace masked logits with ``finfo(dtype).min``, softmax (optionally
in float32), optional dropout with a ``keep / keep_prob`` multiplier, and
finally ``einsum('...hqk,...khd->...qhd')`` with the values.

The contractions: by default ``jnp.einsum`` with ``precision`` and
``einsum_dot_general`` bound in; a caller's own einsum (``einsum=`` /
``qk_attn_weights_einsum=`` + ``attn_weights_value_einsum=``) is called with
the equation and the two operands only, so it cannot be combined with
``precision`` or ``einsum_dot_general`` (``ValueError``, as in the reference).

Shape checks are the reference's ``assert`` statements, with its texts, raised
as ``BadLayerInput`` (an ``AssertionError`` and a ``ValueError``); an input of
too low a rank fails with ``IndexError`` where the reference's indexing fails.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.linen._layer_utils import TUPLE_INDEX, BadLayerInput
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, PrecisionLike, PRNGKey

_LAYOUT = '[batch..., length, num_heads, depth]'


def _default_einsum(precision: PrecisionLike, dot_general: Callable[..., Array] | None
                    ) -> Callable[..., Array]:
  """``jnp.einsum`` with ``precision`` (and a custom ``dot_general``, if any) bound in."""
  if dot_general:
    return functools.partial(jnp.einsum, precision=precision, _dot_general=dot_general)
  return functools.partial(jnp.einsum, precision=precision)  # lax.dot_general, einsum's default


def _size(fn: str, x: Array, axis: int, name: str) -> int:
  """``x.shape[axis]``, or the ``IndexError`` the reference hits, with the expected layout."""
  try:
    return x.shape[axis]
  except IndexError:
    raise IndexError(f'{fn}: {TUPLE_INDEX} ({name} of shape {x.shape} lacks axis {axis} of '
                     f'the layout {_LAYOUT})') from None


def _require(fn: str, ok: bool, text: str, *arrays: tuple[str, Array]) -> None:
  if not ok:
    shapes = ', '.join(f'{name} {x.shape}' for name, x in arrays)
    raise BadLayerInput(f'{fn}: {text} (got {shapes})')


@set_module('flaxen.linen')
def dot_product_attention_weights(
  query: Array,
  key: Array,
  bias: Array | None = None,
  mask: Array | None = None,
  broadcast_dropout: bool = True,
  dropout_rng: PRNGKey | None = None,
  dropout_rate: float = 0.0,
  deterministic: bool = False,
  dtype: Dtype | None = None,
  precision: PrecisionLike = None,
  module: Any = None,
  force_fp32_for_softmax: bool = False,
  einsum_dot_general: Callable[..., Array] | None = None,
  einsum: Callable[..., Array] | None = None,
) -> Array:
  """Computes attention weights ``softmax(q k^T / sqrt(d) + bias)`` per head.

  Args:
    query: ``[batch..., q_length, num_heads, qk_depth]``.
    key: ``[batch..., kv_length, num_heads, qk_depth]``.
    bias: optional bias broadcastable to ``[batch..., num_heads, q_length,
      kv_length]`` (e.g. relative-position bias), added to the logits.
    mask: optional boolean-like mask of that shape; where it is false the
      logit becomes the dtype's most negative value.
    broadcast_dropout: share one dropout mask across batch and head axes.
    dropout_rng: PRNG key for dropout (required when dropout is active).
    dropout_rate: probability of dropping a weight.
    deterministic: when true, no dropout.
    dtype: computation dtype (default: promoted from the inputs).
    precision: ``jax.lax.Precision`` for the einsum.
    module: when given, the weights are sown into its ``'intermediates'``
      collection as ``attention_weights``.
    force_fp32_for_softmax: compute the softmax in float32 (and return float32
      weights) when ``dtype`` is lower precision.
    einsum_dot_general: ``dot_general`` used by the einsum.
    einsum: a replacement for ``jnp.einsum``, called as ``einsum(equation, q, k)``;
      mutually exclusive with ``precision`` and ``einsum_dot_general``.

  Returns:
    Weights of shape ``[batch..., num_heads, q_length, kv_length]``.

  Raises:
    ValueError: when ``einsum`` is combined with ``precision``/``einsum_dot_general``.
    AssertionError (``BadLayerInput``, also a ``ValueError``): on inconsistent shapes.
  """
  fn = 'dot_product_attention_weights'
  if (precision or einsum_dot_general) and einsum:
    raise ValueError(f'{fn}: precision/einsum_dot_general and einsum are mutually exclusive. '
                     'Please specify only one of them.')
  contract = einsum or _default_einsum(precision, einsum_dot_general)
  query, key = promote_dtype(query, key, dtype=dtype)
  dtype = query.dtype
  pair = (('query', query), ('key', key))
  _require(fn, query.ndim == key.ndim, 'q, k must have same rank.', *pair)
  _require(fn, query.shape[:-3] == key.shape[:-3], 'q, k batch dims must match.', *pair)
  _require(fn, _size(fn, query, -2, 'query') == _size(fn, key, -2, 'key'),
           'q, k num_heads must match.', *pair)
  _require(fn, query.shape[-1] == key.shape[-1], 'q, k depths must match.', *pair)

  depth = query.shape[-1]
  query = query / jnp.sqrt(depth).astype(dtype)
  weights = contract('...qhd,...khd->...hqk', query, key)

  if bias is not None:
    weights = weights + bias
  if mask is not None:
    weights = jnp.where(mask, weights, jnp.finfo(dtype).min)

  if force_fp32_for_softmax and dtype != jnp.float32:
    weights = jax.nn.softmax(weights.astype(jnp.float32))
  else:
    weights = jax.nn.softmax(weights).astype(dtype)

  if module:
    module.sow('intermediates', 'attention_weights', weights)

  if not deterministic and dropout_rate > 0.0:
    keep_prob = 1.0 - dropout_rate
    if broadcast_dropout:
      # one mask shared by the batch and head axes
      mask_shape = (1,) * (key.ndim - 2) + weights.shape[-2:]
    else:
      mask_shape = weights.shape
    # (required here; a missing key fails inside jax, as in the reference)
    keep = jax.random.bernoulli(dropout_rng, keep_prob, mask_shape)  # type: ignore[arg-type]
    multiplier = keep.astype(dtype) / jnp.asarray(keep_prob, dtype=dtype)
    weights = weights * multiplier

  return weights


@set_module('flaxen.linen')
def dot_product_attention(
  query: Array,
  key: Array,
  value: Array,
  bias: Array | None = None,
  mask: Array | None = None,
  broadcast_dropout: bool = True,
  dropout_rng: PRNGKey | None = None,
  dropout_rate: float = 0.0,
  deterministic: bool = False,
  dtype: Dtype | None = None,
  precision: PrecisionLike = None,
  module: Any = None,
  force_fp32_for_softmax: bool = False,
  einsum_dot_general: Callable[..., Array] | None = None,
  qk_attn_weights_einsum: Callable[..., Array] | None = None,
  attn_weights_value_einsum: Callable[..., Array] | None = None,
) -> Array:
  """Scaled dot-product attention: the weighted sum of ``value`` per query.

  Args:
    query: ``[batch..., q_length, num_heads, qk_depth]``.
    key: ``[batch..., kv_length, num_heads, qk_depth]``.
    value: ``[batch..., kv_length, num_heads, v_depth]``.
    bias, mask, broadcast_dropout, dropout_rng, dropout_rate, deterministic,
      dtype, precision, module, force_fp32_for_softmax, einsum_dot_general: as
      for ``dot_product_attention_weights``.
    qk_attn_weights_einsum: replacement einsum for the query-key product.
    attn_weights_value_einsum: replacement einsum for the weights-value product.

  Returns:
    ``[batch..., q_length, num_heads, v_depth]``.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> q = k = v = jnp.ones((2, 5, 4, 8))
    >>> nn.dot_product_attention(q, k, v).shape
    (2, 5, 4, 8)
  """
  fn = 'dot_product_attention'
  if bool(qk_attn_weights_einsum) != bool(attn_weights_value_einsum):
    raise ValueError(f'{fn}: qk_attn_weights_einsum and attn_weights_value_einsum must be '
                     'specified together.')
  if (precision or einsum_dot_general) and (qk_attn_weights_einsum or attn_weights_value_einsum):
    raise ValueError(f'{fn}: precision/einsum_dot_general and '
                     'qk_attn_weights_einsum/attn_weights_value_einsum are mutually exclusive. '
                     'Please specify only one of them.')
  query, key, value = promote_dtype(query, key, value, dtype=dtype)
  dtype = query.dtype
  triple = (('query', query), ('key', key), ('value', value))
  _require(fn, key.ndim == query.ndim == value.ndim, 'q, k, v must have same rank.', *triple)
  _require(fn, query.shape[:-3] == key.shape[:-3] == value.shape[:-3],
           'q, k, v batch dims must match.', *triple)
  heads = [_size(fn, x, -2, name) for name, x in triple]
  _require(fn, heads[0] == heads[1] == heads[2], 'q, k, v num_heads must match.', *triple)
  _require(fn, _size(fn, key, -3, 'key') == _size(fn, value, -3, 'value'),
           'k, v lengths must match.', *triple[1:])

  weights = dot_product_attention_weights(
    query,
    key,
    bias,
    mask,
    broadcast_dropout,
    dropout_rng,
    dropout_rate,
    deterministic,
    dtype,
    precision,
    module,
    force_fp32_for_softmax,
    einsum_dot_general=einsum_dot_general,
    einsum=qk_attn_weights_einsum,
  )
  contract = attn_weights_value_einsum or _default_einsum(precision, einsum_dot_general)
  return contract('...hqk,...khd->...qhd', weights, value)
