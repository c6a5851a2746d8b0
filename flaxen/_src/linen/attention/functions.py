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
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.linen.attention.checks import BadAttentionInput
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.public import set_module

Array = Any
Dtype = Any
PrecisionLike = Any


def _einsum(custom: Callable[..., Array] | None, dot_general: Callable[..., Array] | None):
  if custom is not None:
    return custom
  if dot_general is not None:
    return functools.partial(jnp.einsum, _dot_general=dot_general)
  return jnp.einsum


def _check_qk(fn: str, query: Array, key: Array) -> None:
  if query.ndim != key.ndim or query.ndim < 3:
    raise BadAttentionInput(
      f'{fn}: query and key must have the same rank >= 3 ([batch..., length, heads, depth]); '
      f'got query {query.shape} and key {key.shape}.'
    )
  if query.shape[:-3] != key.shape[:-3]:
    raise BadAttentionInput(
      f'{fn}: query and key batch dims must match; got {query.shape[:-3]} and {key.shape[:-3]}.'
    )
  if query.shape[-2] != key.shape[-2]:
    raise BadAttentionInput(
      f'{fn}: query and key num_heads must match; got {query.shape[-2]} and {key.shape[-2]}.'
    )
  if query.shape[-1] != key.shape[-1]:
    raise BadAttentionInput(
      f'{fn}: query and key depths must match; got {query.shape[-1]} and {key.shape[-1]}.'
    )


@set_module('flaxen.linen')
def dot_product_attention_weights(
  query: Array,
  key: Array,
  bias: Array | None = None,
  mask: Array | None = None,
  broadcast_dropout: bool = True,
  dropout_rng: Array | None = None,
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
    einsum: a replacement for ``jnp.einsum``.

  Returns:
    Weights of shape ``[batch..., num_heads, q_length, kv_length]``.

  Raises:
    ValueError (also an ``AssertionError``): on inconsistent shapes, or when
      dropout is active and no ``dropout_rng`` is given.
  """
  query, key = promote_dtype(query, key, dtype=dtype)
  dtype = query.dtype
  _check_qk('dot_product_attention_weights', query, key)

  depth = query.shape[-1]
  query = query / jnp.sqrt(depth).astype(dtype)
  contract = _einsum(einsum, einsum_dot_general)
  weights = contract('...qhd,...khd->...hqk', query, key, precision=precision)

  if bias is not None:
    weights = weights + bias
  if mask is not None:
    weights = jnp.where(mask, weights, jnp.finfo(dtype).min)

  if force_fp32_for_softmax and dtype != jnp.float32:
    weights = jax.nn.softmax(weights.astype(jnp.float32))
  else:
    weights = jax.nn.softmax(weights).astype(dtype)

  if module is not None:
    module.sow('intermediates', 'attention_weights', weights)

  if not deterministic and dropout_rate > 0.0:
    if dropout_rng is None:
      raise BadAttentionInput(
        f'dot_product_attention_weights: dropout_rate={dropout_rate} with '
        'deterministic=False needs a dropout_rng key (pass dropout_rng=..., or '
        "rngs={'dropout': key} to apply when called from a Module)."
      )
    keep_prob = 1.0 - dropout_rate
    if broadcast_dropout:
      # one mask shared by the batch and head axes
      mask_shape = (1,) * (key.ndim - 2) + weights.shape[-2:]
    else:
      mask_shape = weights.shape
    keep = jax.random.bernoulli(dropout_rng, keep_prob, mask_shape)
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
  dropout_rng: Array | None = None,
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
  query, key, value = promote_dtype(query, key, value, dtype=dtype)
  dtype = query.dtype
  fn = 'dot_product_attention'
  if not (query.ndim == key.ndim == value.ndim):
    raise BadAttentionInput(
      f'{fn}: query, key and value must have the same rank; got shapes '
      f'{query.shape}, {key.shape} and {value.shape}.'
    )
  _check_qk(fn, query, key)
  if value.shape[:-3] != query.shape[:-3] or value.shape[-2] != query.shape[-2]:
    raise BadAttentionInput(
      f'{fn}: value batch dims and num_heads must match the query; got value '
      f'{value.shape} for query {query.shape}.'
    )
  if key.shape[-3] != value.shape[-3]:
    raise BadAttentionInput(
      f'{fn}: key and value lengths must match; got {key.shape[-3]} and {value.shape[-3]}.'
    )

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
  contract = _einsum(attn_weights_value_einsum, einsum_dot_general)
  return contract('...hqk,...khd->...qhd', weights, value, precision=precision)
