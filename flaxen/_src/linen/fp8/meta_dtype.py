"""``fm32``: a float32 stand-in whose cotangents combine with ``max`` (an extended dtype).

An FP8 scale or amax history that is read in several places (a layer applied under
``scan``, a weight used twice) gets one cotangent per use. Those "cotangents" are updated
meta values, not gradients, so summing them is wrong; the right combination is the
maximum. Converting such a value to ``fm32`` (``lax.convert_element_type(x, fm32)``)
makes JAX's autodiff use this file's ``add`` rule (max) when it accumulates them.

The rules below implement JAX's extended-dtype protocol (the methods JAX looks up on
``dtype._rules``); on device an ``fm32`` array is stored as float32.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax
from jax._src import core, dtypes

from flaxen._src.public import set_module

try:  # the pieces needed to hand an extended-dtype array back from jit
  from jax._src import earray
  from jax._src.interpreters import pxla

  CAN_USE_EARRAY = True
except (ModuleNotFoundError, ImportError):  # pragma: no cover - very old/new jax
  CAN_USE_EARRAY = False

_PUBLIC = 'flaxen.linen.fp8_ops'


def _to_float(x: Any, dt: Any) -> Any:
  return lax.convert_element_type(x, dt.float_dtype)


@set_module(_PUBLIC)
class Fp8MetaTyRules:
  """JAX's extended-dtype rules for ``fp8_meta_dtype_wrapper`` (max-accumulating floats)."""

  @staticmethod
  def physical_element_aval(dtype) -> core.ShapedArray:
    """One element is stored as one scalar of the backing float dtype."""
    return core.ShapedArray((), dtype.float_dtype)

  @staticmethod
  def convert_from(fp8_meta_dtype, other_dtype) -> bool:
    """Conversion from this dtype is allowed to its backing float dtype only."""
    return other_dtype == fp8_meta_dtype.float_dtype

  @staticmethod
  def convert_to(other_dtype, fp8_meta_dtype) -> bool:
    """Conversion to this dtype is allowed from its backing float dtype only."""
    return other_dtype == fp8_meta_dtype.float_dtype

  @staticmethod
  def add(dt, x, y):
    """Cotangent accumulation: the elementwise maximum."""
    return lax.convert_element_type(lax.max(_to_float(x, dt), _to_float(y, dt)), dt)

  @staticmethod
  def zero(dt):
    """The neutral element of ``max``: -inf (or the most negative finite value)."""
    fdt = dt.float_dtype
    lowest = -np.inf if dtypes.supports_inf(fdt) else dtypes.finfo(fdt).min
    return lax.convert_element_type(np.array(lowest, fdt), dt)

  @staticmethod
  def tangent_dtype(dtype):
    return dtype

  @staticmethod
  def full(shape, fill_value, dtype):
    filled = lax.full(shape, lax.convert_element_type(fill_value, dtype.float_dtype),
                      dtype.float_dtype)
    return lax.convert_element_type(filled, dtype)

  @staticmethod
  def global_sharded_result_handler(aval, out_sharding, committed):
    """Wraps jit outputs of this dtype as ``EArray``s over float buffers (same sharding)."""
    if not CAN_USE_EARRAY:
      raise NotImplementedError('convert back under the jit')
    physical = core.physical_aval(aval)
    make_handler = pxla.global_result_handlers[core.ShapedArray]
    handler = make_handler(physical, out_sharding, committed)
    return lambda bufs: earray.EArray(aval, handler(bufs))


@set_module(_PUBLIC)
class fp8_meta_dtype(dtypes.extended):  # noqa: N801 (the reference's name)
  """The scalar type of ``fp8_meta_dtype_wrapper`` (use with ``jnp.issubdtype``)."""


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class fp8_meta_dtype_wrapper(dtypes.ExtendedDType):  # noqa: N801 (the reference's name)
  """An extended dtype backed by ``float_dtype`` (see the module docstring).

  Attributes:
    float_dtype: the float dtype the values are stored and computed in.
  """

  float_dtype: Any
  _rules: type = Fp8MetaTyRules
  type: type = fp8_meta_dtype

  def __repr__(self) -> str:
    return f'fp8_meta{dtypes.finfo(self.float_dtype).bits}'

  name = property(__repr__)


# two equal dtypes under both of the reference's names
fm32 = fp8_meta_dtype_wrapper(jnp.float32)
fp32_max_grad = fp8_meta_dtype_wrapper(jnp.float32)


def to_float32(value: Any) -> Any:
  """``value`` as float32 when it is ``fm32``; otherwise unchanged."""
  if value.dtype == fm32:
    return lax.convert_element_type(value, jnp.float32)
  return value
