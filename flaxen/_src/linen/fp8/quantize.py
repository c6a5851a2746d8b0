"""FP8 quantization arithmetic and the delayed-scaling update rule.

``quantize(x, q_dtype, scale, compute_dtype)`` divides by ``scale``, clips to the FP8
format's finite range and casts; ``dequantize`` casts back and multiplies. The scale of
the next step comes from the *history* of absolute maxima (delayed scaling, as in
NVIDIA's Transformer Engine): ``scale = amax / fp8_max`` using the largest amax in the
history, kept unchanged while that amax is zero or not finite; the new amax of ``x`` is
then pushed to the front of the (rolled) history.

Every operation and its order match the reference's ``flax.linen.fp8_ops``, so values are
bit-identical.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from flaxen._src.linen.fp8.meta_dtype import fm32, fp32_max_grad, to_float32
from flaxen._src.public import set_module
from flaxen._src.typing import Array

_PUBLIC = 'flaxen.linen.fp8_ops'

_FP8_FORMATS = (jnp.float8_e4m3fn, jnp.float8_e5m2, jnp.float8_e4m3fnuz, jnp.float8_e5m2fnuz)


@set_module(_PUBLIC)
def get_fp8_max(fp8_dtype: Any, out_dtype: Any) -> Array:
  """The largest finite value of an FP8 format, as a scalar of ``out_dtype``."""
  assert fp8_dtype in _FP8_FORMATS
  return jnp.finfo(fp8_dtype).max.astype(out_dtype)


@set_module(_PUBLIC)
def quantize(x: Array, q_dtype: Any, scale: Array, compute_dtype: Any) -> Array:
  """``clip(x / scale)`` cast to the FP8 format ``q_dtype`` (arithmetic in ``compute_dtype``)."""
  # the bound is cast to compute_dtype up front so nothing is promoted to float32
  bound = get_fp8_max(q_dtype, compute_dtype)
  scaled = x / jnp.broadcast_to(scale.astype(compute_dtype), x.shape)
  return jnp.clip(scaled, -bound, bound).astype(q_dtype)


@set_module(_PUBLIC)
def dequantize(x: Array, dq_dtype: Any, scale: Array) -> Array:
  """``x`` cast to ``dq_dtype`` and multiplied by ``scale``."""
  return x.astype(dq_dtype) * jnp.broadcast_to(scale.astype(dq_dtype), x.shape)


@set_module(_PUBLIC)
def qdq(x: Array, q_dtype: Any, scale: Array, compute_dtype: Any) -> Array:
  """Quantize then dequantize: ``x`` as the FP8 format can represent it, in ``x.dtype``."""
  return dequantize(quantize(x, q_dtype, scale, compute_dtype), x.dtype, scale)


@set_module(_PUBLIC)
def compute_scale(amax: Array, scale: Array, fp8_max: Array, margin: int = 0) -> Array:
  """The next scale: ``amax * 2**margin / fp8_max``, or ``scale`` when amax is 0/inf/nan.

  The update is carried out on the reciprocal (the factor inputs are multiplied by), as in
  Transformer Engine's ``update_fp8_metas``.
  """
  previous = 1.0 / scale
  factor = (fp8_max / amax) / (2**margin)
  factor = jnp.where(amax > 0.0, factor, previous)
  factor = jnp.where(jnp.isfinite(amax), factor, previous)
  return 1.0 / factor


@set_module(_PUBLIC)
def compute_amax_history(x: Array, amax_history: Array) -> Array:
  """The history rolled by one with ``max(|x|)`` written at position 0."""
  newest = jnp.max(jnp.abs(x)).astype(amax_history.dtype)
  return jnp.roll(amax_history, shift=-1, axis=0).at[0].set(newest)


@set_module(_PUBLIC)
def update_fp8_meta(x: Array, q_dtype: Any, scale: Array, amax_history: Array):
  """``(new_scale, new_history)`` for quantizing ``x``; ``fm32`` inputs give ``fm32`` outputs.

  The scale is computed from the history *before* ``x`` is added to it (delayed scaling).
  """
  meta32 = scale.dtype == fm32 and amax_history.dtype == fm32
  if meta32:
    scale = lax.convert_element_type(scale, jnp.float32)
    amax_history = lax.convert_element_type(amax_history, jnp.float32)
  fp8_max = get_fp8_max(q_dtype, jnp.float32)
  new_scale = compute_scale(jnp.max(amax_history, axis=0), scale, fp8_max)
  new_history = compute_amax_history(x, amax_history)
  if meta32:
    new_history = lax.convert_element_type(new_history, fp32_max_grad)
    new_scale = lax.convert_element_type(new_scale, fp32_max_grad)
  return new_scale, new_history


@set_module(_PUBLIC)
def quantize_dequantize_update(x: Array, q_dtype: Any, scale: Array, amax_history: Array,
                               compute_dtype: Any):
  """``(qdq(x) with the updated scale, new_scale, new_history)``."""
  new_scale, new_history = update_fp8_meta(x, q_dtype, scale, amax_history)
  return qdq(x, q_dtype, to_float32(new_scale), compute_dtype), new_scale, new_history
