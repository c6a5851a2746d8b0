"""The arithmetic every normalization layer shares: statistics and the learned affine map.

Two steps, each a function of the calling layer (whose fields it reads:
``dtype``, ``param_dtype``, ``epsilon``, ``use_scale``/``use_bias``,
``scale_init``/``bias_init``, ``axis_name``, ``axis_index_groups``,
``use_fast_variance``, ``force_float32_reductions``):

``layer_stats(mdl, x, axes, ...)`` -> ``(mean, var)`` over ``axes``
  1. the working dtype is ``mdl.dtype`` (or the input's) lifted to at least
     float32 when ``force_float32_reductions`` (half precision is lifted,
     float64/complex kept) and ``x`` is cast to it;
  2. ``E[x]`` and ``E[|x|^2]`` come from the *same* input in one pass (DESIGN
     §5: this order is measurably faster under XLA); under an ``axis_name`` the
     two means are stacked and averaged across devices with a single ``pmean``;
  3. ``var = max(0, E[|x|^2] - |E[x]|^2)``, or the two-pass
     ``E[|x - E[x]|^2]`` when ``use_fast_variance=False``; RMSNorm
     (``use_mean=False``) takes ``var = E[|x|^2]`` and a zero mean.

``affine(mdl, x, mean, var, reduction_axes=..., feature_axes=...)``
  ``(x - mean) * (rsqrt(var + eps) * scale) + bias`` in that order, with the
  params ``scale`` then ``bias`` shaped like the feature axes (reshaped to full
  rank, never broadcast implicitly); without float32 reductions they are used
  in ``param_dtype``. The result is cast to the layer's dtype (inferred from
  the input and the params when ``dtype`` is None).

Axes are canonicalized by ``_layer_utils.canonicalize_axes`` (the reference's
way: negative axes shifted once, duplicates dropped through a set).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.linen._layer_utils import canonicalize_axes, check_axes_index
from flaxen._src.linen.dtypes import as_array, canonicalize_dtype, cast
from flaxen._src.typing import Array, Axes, Dtype

_FROM_LAYER: Any = object()  # "read this setting from the layer"


def abs_sq(x: Array) -> Array:
  """``|x|^2`` elementwise: ``x^2`` for real inputs, ``re^2 + im^2`` for complex ones."""
  if not jnp.iscomplexobj(x):
    return lax.square(x)
  return lax.square(lax.real(x)) + lax.square(lax.imag(x))


_F32 = np.dtype(np.float32)


def _working_dtype(x: Array, dtype: Dtype | None, force_float32: bool) -> Any:
  chosen: Any
  if dtype is None:
    chosen = x.dtype if isinstance(x, jax.Array) else jnp.result_type(x)
  else:
    chosen = dtype
  if not force_float32:
    return chosen
  if chosen is _F32:  # float32 with float32 is float32 in every promotion mode
    return chosen
  return jnp.promote_types(chosen, jnp.float32)


class _Averager:
  """Means over fixed axes (optionally masked), then averaged across ``axis_name`` devices."""

  def __init__(self, axes: tuple[int, ...], mask: Array | None, axis_name: str | None,
               axis_index_groups: Any):
    self.axes = axes
    self.where = None if mask is None else jnp.asarray(mask, dtype=bool)
    self.axis_name = axis_name
    self.groups = axis_index_groups

  def local(self, v: Array) -> Array:
    return v.mean(self.axes, where=self.where)

  def one(self, v: Array) -> Array:
    m = self.local(v)
    if self.axis_name is None:
      return m
    return lax.pmean(m, self.axis_name, axis_index_groups=self.groups)

  def two(self, a: Array, b: Array) -> tuple[Array, Array]:
    """Both means; across devices they travel as one stacked ``pmean``."""
    ma, mb = self.local(a), self.local(b)
    if self.axis_name is None:
      return ma, mb
    both = lax.pmean(jnp.stack((ma, mb), axis=0), self.axis_name,
                     axis_index_groups=self.groups)
    return both[0], both[1]


def compute_stats(x: Array, axes: Axes, *, dtype: Dtype | None, axis_name: str | None = None,
                  axis_index_groups: Any = None, use_mean: bool = True,
                  use_fast_variance: bool = True, mask: Array | None = None,
                  force_float32_reductions: bool = True) -> tuple[Array, Array]:
  """``(mean, var)`` of ``x`` over ``axes``, in the order the module docstring gives.

  Args:
    x: input array.
    axes: axes to reduce.
    dtype: computation dtype hint (``None``: the input's dtype).
    axis_name: average the statistics over this named axis (``pmap``/``shard_map``).
    axis_index_groups: device groups for that average.
    use_mean: False for RMSNorm (zero mean, ``var = E[|x|^2]``).
    use_fast_variance: one-pass (True) or two-pass variance.
    mask: boolean array broadcastable to ``x``; only True entries count.
    force_float32_reductions: lift half precision to float32 for the reductions.

  Returns:
    ``(mean, var)``, both with the reduced axes removed.
  """
  work = _working_dtype(x, dtype, force_float32_reductions)
  x = cast(x, work)
  avg = _Averager(canonicalize_axes(x.ndim, axes), mask, axis_name, axis_index_groups)
  if not use_mean:
    var = avg.one(abs_sq(x))
    return jnp.zeros_like(var), var
  if not use_fast_variance:
    mean = avg.one(x)
    return mean, avg.one(abs_sq(x - jnp.expand_dims(mean, avg.axes)))
  mean, mean_sq = avg.two(x, abs_sq(x))
  # The one-pass difference can dip below zero by round-off.
  return mean, jnp.maximum(0.0, mean_sq - abs_sq(mean))


def layer_stats(mdl: Any, x: Array, axes: Axes, *, use_mean: bool = True,
                mask: Array | None = None, axis_name: Any = _FROM_LAYER) -> tuple[Array, Array]:
  """``compute_stats`` with the settings of the normalization layer ``mdl``.

  ``axis_name`` overrides ``mdl.axis_name`` (BatchNorm passes ``None`` while
  initializing, so ``init`` works outside ``pmap``).
  """
  x = as_array(x)
  check_axes_index(mdl, x.shape, canonicalize_axes(x.ndim, axes), 'the reduction axes')
  return compute_stats(
    x, axes, dtype=mdl.dtype,
    axis_name=mdl.axis_name if axis_name is _FROM_LAYER else axis_name,
    axis_index_groups=mdl.axis_index_groups, use_mean=use_mean,
    use_fast_variance=mdl.use_fast_variance, mask=mask,
    force_float32_reductions=mdl.force_float32_reductions)


def feature_layout(mdl: Any, shape: Sequence[int], feature_axes: Sequence[int]
                   ) -> tuple[tuple[int, ...], tuple[int, ...]]:
  """``(param_shape, full_shape)`` of per-feature params: the feature sizes, and the
  same laid out at full rank with 1 on every other axis.

  Both are tuples (hashable: the apply-time shape check caches on them).
  """
  check_axes_index(mdl, shape, feature_axes, 'the feature axes')
  full_shape = [1] * len(shape)
  for ax in feature_axes:
    full_shape[ax] = shape[ax]
  return tuple(shape[ax] for ax in feature_axes), tuple(full_shape)


def _affine_param(mdl: Any, name: str, init: Any, param_shape: tuple[int, ...],
                  full_shape: tuple[int, ...]) -> Array:
  value = lax.reshape(mdl.param(name, init, param_shape, mdl.param_dtype), full_shape)
  if not mdl.force_float32_reductions:
    value = cast(value, mdl.param_dtype)
  return value


def affine(mdl: Any, x: Array, mean: Array, var: Array, *, reduction_axes: Axes,
           feature_axes: Axes, use_bias: bool | None = None) -> Array:
  """Normalizes ``x`` with ``(mean, var)`` and applies the layer's learned scale and bias.

  Args:
    mdl: the normalization layer; its params ``scale``/``bias`` are created here.
    x: the input.
    mean: statistics with the ``reduction_axes`` removed.
    var: likewise.
    reduction_axes: the axes the statistics were reduced over.
    feature_axes: the axes that carry one scale/bias entry per feature.
    use_bias: overrides ``mdl.use_bias`` (layers without the field pass False).

  Returns:
    The normalized array in the layer's dtype.
  """
  reduced = canonicalize_axes(x.ndim, reduction_axes)
  param_shape, full_shape = feature_layout(mdl, x.shape, canonicalize_axes(x.ndim, feature_axes))
  mean, var = jnp.expand_dims(mean, reduced), jnp.expand_dims(var, reduced)
  centered = x - mean
  factor = lax.rsqrt(var + mdl.epsilon)
  used = [x]
  if mdl.use_scale:
    scale = _affine_param(mdl, 'scale', mdl.scale_init, param_shape, full_shape)
    factor = factor * scale
    used.append(scale)
  y = centered * factor
  if mdl.use_bias if use_bias is None else use_bias:
    bias = _affine_param(mdl, 'bias', mdl.bias_init, param_shape, full_shape)
    y = y + bias
    used.append(bias)
  return cast(y, canonicalize_dtype(*used, dtype=mdl.dtype))


def l2_normalize(x: Array, axis: Axes | None = None, eps: float = 1e-12) -> Array:
  """``x / sqrt(sum(x^2, axis) + eps)``, computed as a multiplication by ``rsqrt``."""
  return x * lax.rsqrt((x * x).sum(axis=axis, keepdims=True) + eps)
