"""Functional attention: ``dot_product_attention`` and ``multi_head_dot_product_attention``.

Inputs are ``(batch, *attention_dims, heads, channels)``; the attention axes may be
several (e.g. the rows and columns of an image). ``multi_head_dot_product_attention``
projects its inputs with ``dense_general`` children named ``query``, ``key``, ``value``
and ``out``, builds a bias from the masks (0 where attending, -1e10 elsewhere) and calls
``attention_fn`` in an automatically named child scope (which is where a dropout key is
drawn). With ``cache=True`` it keeps a ``cache/entry`` (``CacheEntry``) for
autoregressive decoding one position at a time. Numerics, names and errors follow the
reference's ``flax.core.nn.attention``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax, random
from jax.nn import initializers as jinit

from flaxen._src.core.nn.attention_masks import (
  check_attention_axes,
  make_causal_mask,
  make_padding_mask,
)
from flaxen._src.core.nn.linear import default_kernel_init, dense_general
from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.tree import struct
from flaxen._src.typing import Array, Dtype, Initializer, PrecisionLike, PRNGKey

_PUBLIC = 'flaxen.core.nn.attention'


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
  return tuple(int(i) for i in np.argsort(perm))


def _dropout_weights(weights, rng, rate, broadcast, n_batch, n_axes, dtype):
  keep_prob = 1.0 - rate
  if broadcast:
    # one mask per (query, key) pair, shared by batch, heads and other axes
    shape = (1,) * n_batch + weights.shape[-(2 * n_axes):]
  else:
    shape = weights.shape
  keep = random.bernoulli(rng, keep_prob, shape)
  return weights * (keep.astype(weights.dtype) / jnp.asarray(keep_prob, dtype=dtype))


@set_module(_PUBLIC)
def dot_product_attention(
  scope: Scope,
  query: Array,
  key: Array,
  value: Array,
  dtype: Dtype = jnp.float32,
  bias: Array | None = None,
  axis: int | tuple[int, ...] | None = None,
  broadcast_dropout: bool = True,
  dropout_rng: PRNGKey | None = None,
  dropout_rate: float = 0.0,
  deterministic: bool = False,
  precision: PrecisionLike = None,
) -> Array:
  """Softmax attention of ``query`` over ``key``, applied to ``value``.

  Args:
    scope: the scope whose ``'dropout'`` stream is used when dropout is on.
    query: ``(batch, *dims, heads, depth)``.
    key: ``(batch, *dims, heads, depth)``.
    value: ``(batch, *dims, heads, value_depth)``.
    dtype: the computation dtype of the weights.
    bias: added to the logits (masks, relative positions, ...).
    axis: the attention axes (default: all between batch and heads).
    broadcast_dropout: share the dropout mask over batch, heads and other axes.
    dropout_rng: an explicit dropout key.
    dropout_rate: the attention-weight dropout rate.
    deterministic: disable dropout.
    precision: ``lax.Precision`` of both contractions.

  Returns:
    ``(batch, *dims, heads, value_depth)``.

  Raises:
    ValueError: an attention axis is the batch axis or one of the last two.
  """
  assert key.shape[:-1] == value.shape[:-1]
  assert query.shape[0:1] == key.shape[0:1] and query.shape[-1] == key.shape[-1]
  if axis is None:
    axis = tuple(range(1, key.ndim - 2))
  axes = tuple(axis) if isinstance(axis, Iterable) else (axis,)
  assert key.ndim == query.ndim
  assert key.ndim == value.ndim
  check_attention_axes(query.ndim, axes)

  n = key.ndim
  depth = query.shape[-1]
  # everything that is neither attended over nor contracted: batch, other axes, heads
  batch_axes = tuple(int(d) for d in np.delete(range(n), axes + (n - 1,)))
  qk_order = batch_axes + axes + (n - 1,)
  k = key.transpose(qk_order)
  q = query.transpose(qk_order)
  v = value.transpose(batch_axes + (n - 1,) + axes)

  q = q / jnp.sqrt(depth).astype(dtype)
  nb = len(batch_axes)
  shared = tuple(range(nb))
  logits = lax.dot_general(q, k, (((n - 1,), (n - 1,)), (shared, shared)), precision=precision)
  if bias is not None:
    logits = logits + bias

  key_axes = tuple(range(logits.ndim - len(axes), logits.ndim))
  normalizer = jax.scipy.special.logsumexp(logits, axis=key_axes, keepdims=True)
  weights = lax.exp(logits - normalizer).astype(dtype)

  if not deterministic and dropout_rate > 0.0:
    if dropout_rng is None:
      dropout_rng = scope.make_rng('dropout')
    weights = _dropout_weights(weights, dropout_rng, dropout_rate, broadcast_dropout, nb,
                               len(axes), dtype)

  value_axes = tuple(range(v.ndim - len(axes), v.ndim))
  y = lax.dot_general(weights, v, ((key_axes, value_axes), (shared, shared)),
                      precision=precision)
  return y.transpose(_inverse(qk_order))


@set_module(_PUBLIC)
class CacheEntry(struct.PyTreeNode):
  """The decoding cache of ``multi_head_dot_product_attention``.

  Attributes:
    key: the projected keys seen so far (zeros beyond ``i``).
    value: the projected values seen so far.
    i: the number of positions decoded.
  """

  key: Any
  value: Any
  i: Any


def _cache_initializer(ndim: int, tail: tuple[int, ...]) -> Callable[..., CacheEntry]:
  """What ``init`` stores: a function ``(batch_and_attention_shape, dtype) -> CacheEntry``."""

  def make(shape, dtype=jnp.float32):
    full = shape + tail
    if len(full) != ndim:
      raise ValueError('Shape should be a tuple with the shape of the batchand attention dims.')
    return CacheEntry(key=jnp.zeros(full, dtype), value=jnp.zeros(full, dtype),
                      i=jnp.zeros((), jnp.uint32))

  return make


def _decode_step(entry, key, value, inputs_q, attention_axis):
  """Writes this step's key/value at position ``entry.i``; returns them, the new entry
  and the key padding mask of the positions filled so far."""
  if not isinstance(entry, CacheEntry):
    raise ValueError('Cache is not initialized.')
  expected = list(entry.key.shape[:-2])
  for a in attention_axis:
    expected[a] = 1
  expected = tuple(expected) + inputs_q.shape[-1:]
  if expected != inputs_q.shape:
    raise ValueError(
      f'Invalid shape provided, expected shape {expected} instead got {inputs_q.shape}.'
    )
  cshape = entry.key.shape
  # position i in row-major order over the attention axes -> one index per axis
  start = [0] * len(cshape)
  rest = entry.i
  stride = np.prod(np.take(cshape, attention_axis))
  for a in attention_axis:
    stride //= cshape[a]
    start[a] = rest // stride
    rest = rest % stride
  key = lax.dynamic_update_slice(entry.key, key, start)
  value = lax.dynamic_update_slice(entry.value, value, start)
  entry = entry.replace(i=entry.i + jnp.array(1, jnp.uint32), key=key, value=value)
  filled = jnp.broadcast_to(jnp.arange(cshape[1]) < entry.i, cshape[:2])
  return key, value, entry, filled.astype(jnp.float32)[..., None]


def _combine(masks: list[Array], dtype: Dtype) -> Array | None:
  """All masks and-ed together, as an additive bias (0 kept, -1e10 masked)."""
  if not masks:
    return None
  mask = functools.reduce(jnp.logical_and, masks)
  attend = mask > 0
  keep = jnp.full(mask.shape, 0.0).astype(dtype)
  drop = jnp.full(mask.shape, -1e10).astype(dtype)
  return lax.select(attend, keep, drop)


@set_module(_PUBLIC)
def multi_head_dot_product_attention(
  scope: Scope,
  inputs_q: Array,
  inputs_kv: Array | None,
  num_heads: int,
  dtype: Dtype = jnp.float32,
  qkv_features: int | None = None,
  out_features: int | None = None,
  attention_axis: tuple[int, ...] | None = None,
  causal_mask: bool = False,
  padding_mask: Array | None = None,
  key_padding_mask: Array | None = None,
  segmentation: Array | None = None,
  key_segmentation: Array | None = None,
  cache: bool = False,
  broadcast_dropout: bool = True,
  dropout_rng: PRNGKey | None = None,
  dropout_rate: float = 0.0,
  deterministic: bool = False,
  precision: PrecisionLike = None,
  kernel_init: Initializer = default_kernel_init,
  bias_init: Initializer = jinit.zeros,
  bias: bool = True,
  attention_fn: Callable[..., Array] = dot_product_attention,
) -> Array:
  """Multi-head attention: project, attend per head, project back.

  Args:
    scope: the scope holding the ``query``/``key``/``value``/``out`` children (and ``cache``).
    inputs_q: ``(batch, *dims, features)``.
    inputs_kv: the keys/values ``(batch, *dims, features)``; ``None`` for self-attention.
    num_heads: number of heads (must divide ``qkv_features``).
    dtype: the computation dtype.
    qkv_features: size of the projected query/key/value (default: input features).
    out_features: size of the output (default: input features).
    attention_axis: the attention axes (default: all but batch and features).
    causal_mask: mask the pairs where the key follows the query.
    padding_mask: ``(batch, *dims)`` flags of real query tokens.
    key_padding_mask: the same for keys (default: ``padding_mask``).
    segmentation: segment ids of packed queries.
    key_segmentation: segment ids of packed keys (default: ``segmentation``).
    cache: decode with a ``cache/entry`` (requires ``causal_mask``).
    broadcast_dropout: share the dropout mask over batch and heads.
    dropout_rng: an explicit dropout key.
    dropout_rate: attention-weight dropout rate.
    deterministic: disable dropout.
    precision: ``lax.Precision`` of every contraction.
    kernel_init: initializer of the projection kernels.
    bias_init: initializer of the projection biases.
    bias: whether the projections have a bias.
    attention_fn: ``dot_product_attention`` or a function with its signature.

  Returns:
    ``(batch, *dims, out_features)``.
  """
  assert causal_mask or not cache, 'Caching is only support for causal attention.'
  in_features = inputs_q.shape[-1]
  kv = inputs_q if inputs_kv is None else inputs_kv
  if attention_axis is None:
    attention_axis = tuple(range(1, inputs_q.ndim - 1))
  width = qkv_features or in_features
  assert width % num_heads == 0, 'Memory dimension must be divisible by number of heads.'

  project = functools.partial(
    dense_general, axis=-1, dtype=dtype, features=(num_heads, width // num_heads),
    kernel_init=kernel_init, bias_init=bias_init, bias=bias, precision=precision,
  )
  query = scope.child(project, 'query')(inputs_q)
  key = scope.child(project, 'key')(kv)
  value = scope.child(project, 'value')(kv)

  entry: Any = None
  if cache:
    if scope.has_variable('cache', 'entry'):
      entry = scope.get_variable('cache', 'entry')
      key, value, entry, key_padding_mask = _decode_step(entry, key, value, inputs_q,
                                                         attention_axis)
      scope.put_variable('cache', 'entry', entry)
    else:
      scope.put_variable('cache', 'entry', _cache_initializer(key.ndim, key.shape[-2:]))

  masks = []
  if causal_mask:
    if cache and isinstance(entry, CacheEntry):
      attn_shape = tuple(np.take(key.shape, attention_axis))
      positions = jnp.arange(np.prod(attn_shape), dtype=jnp.uint32)
      masks.append((positions < entry.i).reshape((1,) * (key.ndim - 1) + attn_shape))
    else:
      masks.append(make_causal_mask(key, attention_axis))
  for query_ids, key_ids, segments in ((padding_mask, key_padding_mask, False),
                                       (segmentation, key_segmentation, True)):
    if query_ids is None:
      continue
    masks.append(make_padding_mask(
      padding_mask_query=query_ids,
      padding_mask_key=query_ids if key_ids is None else key_ids,
      query_shape=query.shape, key_shape=key.shape,
      attention_axis=attention_axis, segmentation_mask=segments,
    ))

  x = scope.child(attention_fn)(
    query, key, value, dtype=dtype, axis=attention_axis, bias=_combine(masks, dtype),
    precision=precision, dropout_rng=dropout_rng, dropout_rate=dropout_rate,
    broadcast_dropout=broadcast_dropout, deterministic=deterministic,
  )
  return scope.child(dense_general, name='out')(
    x, features=out_features or in_features, axis=(-2, -1), kernel_init=kernel_init, bias_init=bias_init,
    bias=bias, dtype=dtype, precision=precision,
  )
