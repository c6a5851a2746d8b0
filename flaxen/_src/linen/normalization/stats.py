"""The arithmetic shared by the normalization layers: statistics and the affine rescale.

Order of operations (kept identical to the reference, see DESIGN §5):
  1. the input is cast to at least float32 (``promote_types(dtype, float32)``:
     half precision is lifted, float64/complex kept);
  2. ``E[x]`` and ``E[|x|²]`` are computed from the *same* input in one pass
     (under an ``axis_name`` they are stacked and ``pmean``-ed together);
  3. ``var = max(0, E[|x|²] - |E[x]|²)``; with ``use_fast_variance=False``
     the two-pass ``E[|x - E[x]|²]`` is used instead;
  4. ``y = (x - mean) * (rsqrt(var + eps) * scale) + bias``, then cast to the
     layer's ``dtype`` (inferred from the input and the params when ``None``).

``scale`` and ``bias`` are params shaped like the feature axes (not broadcast),
reshaped to full rank before use (no implicit rank promotion).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
from jax import lax

from flaxen._src.linen.dtypes import canonicalize_dtype

Array = Any
Axes = int | Sequence[int]


def canonicalize_axes(ndim: int, axes: Axes) -> tuple[int, ...]:
  """Maps ``axes`` (int or sequence, possibly negative) into sorted-as-given ``range(ndim)``."""
  if not isinstance(axes, Sequence):
    axes = (axes,)
  out = []
  for ax in axes:
    ax = int(ax)
    if not -ndim <= ax < ndim:
      raise ValueError(f'axis {ax} is out of range for an input of rank {ndim}.')
    out.append(ax % ndim)
  return tuple(out)


def abs_sq(x: Array) -> Array:
  """``|x|²`` elementwise (real inputs: ``x²``; complex: ``re² + im²``)."""
  if jnp.iscomplexobj(x):
    return lax.square(lax.real(x)) + lax.square(lax.imag(x))
  return lax.square(x)


def compute_stats(x: Array, axes: Axes, dtype: Any, axis_name: str | None = None,
                  axis_index_groups: Any = None, use_mean: bool = True,
                  use_fast_variance: bool = True, mask: Array | None = None,
                  force_float32_reductions: bool = True) -> tuple[Array, Array]:
  """Computes ``(mean, var)`` of ``x`` over ``axes``.

  Args:
    x: input array.
    axes: axes to reduce.
    dtype: computation dtype hint (``None``: the input's dtype).
    axis_name: if set, the statistics are averaged over this named axis
      (``pmap``/``vmap``/``shard_map``) with ``lax.pmean``.
    axis_index_groups: device groups for the ``pmean``.
    use_mean: if False (RMSNorm), the mean is zero and var is ``E[|x|²]``.
    use_fast_variance: one-pass ``E[|x|²] - |E[x]|²`` (True) or two-pass.
    mask: boolean array broadcastable to ``x``; only True entries count.
    force_float32_reductions: lift half-precision to float32 for the reductions.

  Returns:
    ``(mean, var)``, both with the reduced axes removed.
  """
  if dtype is None:
    dtype = jnp.result_type(x)
  if force_float32_reductions:
    dtype = jnp.promote_types(dtype, jnp.float32)
  x = jnp.asarray(x, dtype)
  axes = canonicalize_axes(x.ndim, axes)

  def mean(*xs: Array) -> Array | tuple[Array, ...]:
    mus = tuple(v.mean(axes, where=mask) for v in xs)
    if axis_name is not None:
      if len(mus) > 1:
        stacked = lax.pmean(jnp.stack(mus, axis=0), axis_name,
                            axis_index_groups=axis_index_groups)
        mus = tuple(stacked[i] for i in range(len(mus)))
      else:
        mus = (lax.pmean(mus[0], axis_name, axis_index_groups=axis_index_groups),)
    return mus if len(mus) > 1 else mus[0]

  if not use_mean:
    var = mean(abs_sq(x))
    return jnp.zeros_like(var), var
  if use_fast_variance:
    mu, mu2 = mean(x, abs_sq(x))
    return mu, jnp.maximum(0.0, mu2 - abs_sq(mu))
  mu = mean(x)
  return mu, mean(abs_sq(x - jnp.expand_dims(mu, axes)))


def normalize(mdl: Any, x: Array, mean: Array, var: Array, reduction_axes: Axes,
              feature_axes: Axes, dtype: Any, param_dtype: Any, epsilon: float, use_bias: bool,
              use_scale: bool, bias_init: Any, scale_init: Any) -> Array:
  """Normalizes ``x`` with the given statistics and applies the learned scale/bias.

  Creates params ``scale`` then ``bias`` (each optional) on ``mdl``, shaped
  like the feature axes of ``x``.

  Returns:
    ``(x - mean) * rsqrt(var + epsilon) * scale + bias`` in the layer dtype.
  """
  reduction_axes = canonicalize_axes(x.ndim, reduction_axes)
  feature_axes = canonicalize_axes(x.ndim, feature_axes)
  full_shape = [1] * x.ndim
  param_shape = []
  for ax in feature_axes:
    full_shape[ax] = x.shape[ax]
    param_shape.append(x.shape[ax])
  mean = jnp.expand_dims(mean, reduction_axes)
  var = jnp.expand_dims(var, reduction_axes)
  y = x - mean
  mul = lax.rsqrt(var + epsilon)
  args = [x]
  if use_scale:
    scale = mdl.param('scale', scale_init, tuple(param_shape), param_dtype).reshape(full_shape)
    mul *= scale
    args.append(scale)
  y *= mul
  if use_bias:
    bias = mdl.param('bias', bias_init, tuple(param_shape), param_dtype).reshape(full_shape)
    y += bias
    args.append(bias)
  return jnp.asarray(y, canonicalize_dtype(*args, dtype=dtype))


def l2_normalize(x: Array, axis: Axes | None = None, eps: float = 1e-12) -> Array:
  """``x / sqrt(sum(x², axis) + eps)`` (computed as a multiplication by ``rsqrt``)."""
  return x * lax.rsqrt((x * x).sum(axis=axis, keepdims=True) + eps)
