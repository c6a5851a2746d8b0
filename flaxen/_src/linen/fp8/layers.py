"""FP8 ``dot_general`` / ``einsum`` replacement modules.

Pass a class to a layer's ``dot_general_cls`` (``nn.Dense(4, dot_general_cls=nn.Fp8DotGeneral)``)
or use ``Fp8Einsum`` as an einsum. Each instance keeps, in the ``OVERWRITE_WITH_GRADIENT``
collection, a scale (``(1,)``, starts at 1) and an amax history (``(amax_history_length,)``,
starts at 0) for the input, the kernel and the output gradient. Differentiating with
respect to that collection yields the *updated* values, which a train step writes back
(``TrainState.apply_gradients`` does) instead of feeding them to the optimizer.

* ``Fp8DirectDotGeneralOp`` (alias ``Fp8DotGeneral``): the dot takes FP8 operands;
* ``Fp8DotGeneralOp`` (deprecated) / ``NANOOFp8DotGeneralOp``: quantize-dequantize the
  operands and the gradient around a higher-precision dot (the NANOO variant uses the
  ``fnuz`` formats);
* ``Fp8Einsum``: ``jnp.einsum`` whose contractions are ``fp8_scaled_dot_general``.

The computation dtype is the kernel's (the second operand's) dtype; the first operand is
cast to it. Variable names, order and values match the reference's ``flax.linen.fp8_ops``.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import jax.numpy as jnp
from jax import lax, random

from flaxen._src.linen import initializers
from flaxen._src.linen.fp8.qdq_ops import (
  dot_general_with_precision,
  fp8_scaled_dot_general,
  in_qdq,
  out_qdq,
)
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype

_PUBLIC = 'flaxen.linen.fp8_ops'

#: the collection of FP8 meta variables; its gradients are the updated values
OVERWRITE_WITH_GRADIENT = '_overwrite_with_gradient'

# (name, initializer, shape attribute or fixed shape), in the reference's creation order
_META = (
  ('input_amax_history', initializers.zeros_init, 'history'),
  ('kernel_amax_history', initializers.zeros_init, 'history'),
  ('output_grad_amax_history', initializers.zeros_init, 'history'),
  ('input_scale', initializers.ones_init, 'scale'),
  ('kernel_scale', initializers.ones_init, 'scale'),
  ('output_grad_scale', initializers.ones_init, 'scale'),
)


def _operands(*args: Any) -> tuple[Array, Array, Any, Any]:
  """``(x, kernel, dimension_numbers, compute dtype)`` from a ``dot_general`` call."""
  assert len(args) == 3
  x, kernel, dimension_numbers = args
  # the kernel's dtype is the layer's computation dtype
  return jnp.asarray(x, kernel.dtype), kernel, dimension_numbers, kernel.dtype


@set_module(_PUBLIC)
class Fp8DotGeneralBase(Module):
  """The FP8 meta variables shared by the FP8 ops (see the module docstring).

  Attributes:
    amax_history_length: how many past absolute maxima the scales are computed from.
    e4m3_dtype: the FP8 format of inputs and kernels.
    e5m2_dtype: the FP8 format of gradients.
  """

  amax_history_length: int = 1024
  e4m3_dtype: Dtype = jnp.float8_e4m3fn
  e5m2_dtype: Dtype = jnp.float8_e5m2

  def setup(self) -> None:
    # one (unused) key per kind, made in this order: the trace matches the reference's op for op
    init_args = {'scale': (random.PRNGKey(0), (1,), jnp.float32)}
    init_args['history'] = (random.PRNGKey(0), (self.amax_history_length,), jnp.float32)
    for name, init, kind in _META:
      setattr(self, name, self.variable(OVERWRITE_WITH_GRADIENT, name, init(), *init_args[kind]))

  def _meta_values(self) -> dict[str, Array]:
    return {
      'lhs_scale': self.input_scale.value,
      'rhs_scale': self.kernel_scale.value,
      'grad_scale': self.output_grad_scale.value,
      'lhs_amax_history': self.input_amax_history.value,
      'rhs_amax_history': self.kernel_amax_history.value,
      'grad_amax_history': self.output_grad_amax_history.value,
    }


@set_module(_PUBLIC)
class Fp8DotGeneralOp(Fp8DotGeneralBase):
  """Quantize-dequantize ``dot_general`` (deprecated: use ``Fp8DirectDotGeneralOp`` or
  ``Fp8Einsum``)."""

  def __post_init__(self) -> None:
    super().__post_init__()
    if type(self) is Fp8DotGeneralOp:
      warnings.warn('The Fp8DotGeneralOp is deprecated. Use Fp8DirectDotGeneralOp or '
                    'Fp8Einsum instead.', DeprecationWarning, stacklevel=2)

  def __call__(self, *args: Any, **kwargs: Any) -> Array:
    x, kernel, dimension_numbers, dtype = _operands(*args)
    fp8_in = partial(in_qdq, dtype, self.e4m3_dtype)
    x = fp8_in(x, self.input_scale.value, self.input_amax_history.value)
    kernel = fp8_in(kernel, self.kernel_scale.value, self.kernel_amax_history.value)
    y = dot_general_with_precision(x, kernel, dimension_numbers)
    return out_qdq(dtype, self.e5m2_dtype, y, self.output_grad_scale.value,
                   self.output_grad_amax_history.value)


@set_module(_PUBLIC)
class Fp8DirectDotGeneralOp(Fp8DotGeneralBase):
  """A ``dot_general`` computed on FP8 operands (``fp8_scaled_dot_general``)."""

  def __call__(self, *args: Any, **kwargs: Any) -> Array:
    x, kernel, dimension_numbers, dtype = _operands(*args)
    return fp8_scaled_dot_general(x, kernel, dimension_numbers, precision=None,
                                  preferred_element_type=x.dtype, quantize_compute_type=dtype,
                                  **self._meta_values())


@set_module(_PUBLIC)
class NANOOFp8DotGeneralOp(Fp8DotGeneralOp):
  """``Fp8DotGeneralOp`` with the ``fnuz`` FP8 formats (no negative zero, no infinities)."""

  e4m3_dtype: Dtype = jnp.float8_e4m3fnuz
  e5m2_dtype: Dtype = jnp.float8_e5m2fnuz


@set_module(_PUBLIC)
class Fp8Einsum(Fp8DotGeneralBase):
  """``jnp.einsum`` whose contractions run in FP8 (``fp8_scaled_dot_general``).

  The right operand is taken to be the weight: its dtype is the computation dtype.
  """

  def __call__(self, eqn: str, lhs: Array, rhs: Array, precision: lax.Precision | None = None,
               preferred_element_type: Any | None = None) -> Array:
    dtype = rhs.dtype
    dot = partial(fp8_scaled_dot_general, quantize_compute_type=dtype, **self._meta_values())
    return jnp.einsum(eqn, lhs.astype(dtype), rhs, precision=precision,
                      preferred_element_type=preferred_element_type, _dot_general=dot)


# the reference's backward-compatible name
Fp8DotGeneral = Fp8DirectDotGeneralOp
