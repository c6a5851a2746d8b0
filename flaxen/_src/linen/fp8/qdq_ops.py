"""Custom-derivative building blocks of FP8 training.

Each block is a ``jax.custom_vjp`` (or ``custom_jvp``) whose backward pass does the FP8
bookkeeping the forward pass cannot:

* ``in_qdq``: quantize-dequantize an input with updated meta; the cotangents of the
  ``scale``/``amax_history`` arguments *are* the updated meta (hence the
  ``OVERWRITE_WITH_GRADIENT`` collection), the input's cotangent passes straight through;
* ``out_qdq``: identity forward; the backward pass quantize-dequantizes the incoming
  gradient (E5M2) and returns the updated gradient meta;
* ``in_q`` / ``out_dq`` / ``quantized_dot``: the direct path, where the dot itself takes
  FP8 operands and the backward pass computes FP8 gradients (``fp8_scaled_dot_general``);
* ``dot_general_with_precision``: the default-precision dot whose derivative uses
  ``HIGHEST`` precision.

The functions' names, signatures and numerics are the reference's (``flax.linen.fp8_ops``).
"""

from __future__ import annotations

import itertools
import warnings
from functools import partial
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import custom_jvp, custom_vjp, lax

from flaxen._src.linen.fp8.meta_dtype import to_float32
from flaxen._src.linen.fp8.quantize import (
  dequantize,
  quantize,
  quantize_dequantize_update,
  update_fp8_meta,
)
from flaxen._src.public import set_module

_public = set_module('flaxen.linen.fp8_ops')


# ----------------------------------------------------------------------------- transposes


def _axes_except(axes, *excluded):
  gone = set(itertools.chain(*excluded))
  return [a for a in axes if a not in gone]


def _blocks(*groups):
  """Consecutive index ranges with the lengths of ``groups``."""
  ends = np.cumsum([0] + [len(g) for g in groups])
  return [range(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:])]


@_public
def dot_general_transpose_lhs(g, x, y, *, dimension_numbers, precision,
                              preferred_element_type: Any | None, swap_ans=False):
  """The cotangent of ``x`` in ``dot_general(x, y)`` given the output cotangent ``g``."""
  (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
  x_free = _axes_except(range(np.ndim(x)), x_contract, x_batch)
  y_free = _axes_except(range(np.ndim(y)), y_contract, y_batch)
  # where the batch and y's free axes sit in the output of the forward dot
  if swap_ans:
    out_batch, out_y, _ = _blocks(x_batch, y_free, x_free)
  else:
    out_batch, _, out_y = _blocks(x_batch, x_free, y_free)
  contracted_in_y_order = list(np.take(x_contract, np.argsort(y_contract)))
  back = np.argsort(list(x_batch) + x_free + contracted_in_y_order)
  product = lax.dot_general(g, y, ((out_y, y_free), (out_batch, y_batch)), precision=precision,
                            preferred_element_type=preferred_element_type)
  return lax.transpose(product, tuple(back))


@_public
def dot_general_transpose_rhs(g, x, y, *, dimension_numbers, precision,
                              preferred_element_type: Any | None):
  """The cotangent of ``y`` in ``dot_general(x, y)`` given the output cotangent ``g``."""
  (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
  swapped = ((y_contract, x_contract), (y_batch, x_batch))
  return dot_general_transpose_lhs(g, y, x, dimension_numbers=swapped, precision=precision,
                                   preferred_element_type=preferred_element_type, swap_ans=True)


# ----------------------------------------------------------------------------- qdq path


@_public
@partial(custom_vjp, nondiff_argnums=(0, 1))
def in_qdq(compute_dtype, q_dtype, inp, scale, amax_history):
  """Quantize-dequantize an input with freshly updated meta (see the module docstring)."""
  return quantize_dequantize_update(inp, q_dtype, scale, amax_history, compute_dtype)[0]


@_public
def in_qdq_fwd(compute_dtype, q_dtype, inp, scale, amax_history):
  out, new_scale, new_history = quantize_dequantize_update(inp, q_dtype, scale, amax_history,
                                                           compute_dtype)
  return out, (new_scale, new_history)


@_public
def in_qdq_bwd(compute_dtype, q_dtype, res, g):
  # the input's gradient passes through; scale/history "gradients" are the new meta
  return (g, *res)


in_qdq.defvjp(in_qdq_fwd, in_qdq_bwd)


@_public
@partial(custom_vjp, nondiff_argnums=(0, 1))
def out_qdq(compute_dtype, q_dtype, out, scale, amax_history):
  """The identity; its backward pass quantize-dequantizes the gradient."""
  return out


@_public
def out_qdq_fwd(compute_dtype, q_dtype, out, scale, amax_history):
  return out, (scale, amax_history)


@_public
def out_qdq_bwd(compute_dtype, q_dtype, res, g):
  scale, amax_history = res
  return quantize_dequantize_update(g, q_dtype, scale, amax_history, compute_dtype)


out_qdq.defvjp(out_qdq_fwd, out_qdq_bwd)


@_public
@partial(custom_jvp, nondiff_argnums=(2, 3, 4))
def dot_general_with_precision(lhs, rhs, dimension_numbers, precision=None,
                               preferred_element_type=None):
  """``lax.dot_general`` at DEFAULT precision, differentiated at HIGHEST precision.

  ``precision`` and ``preferred_element_type`` are ignored (with a warning).
  """
  if precision is not None or preferred_element_type is not None:
    warnings.warn('The function dot_general_with_precision will set the '
                  'precision/preferred_element_type and disregard any provided values.',
                  stacklevel=2)
  return lax.dot_general(lhs, rhs, dimension_numbers, precision=lax.Precision.DEFAULT)


@_public
@dot_general_with_precision.defjvp
def dot_general_with_precision_jvp(dimension_numbers, precision, preferred_element_type,
                                   primals, tangents):
  lhs, rhs = primals
  lhs_dot, rhs_dot = tangents
  precise = partial(lax.dot_general, dimension_numbers=dimension_numbers,
                    precision=lax.Precision.HIGHEST)
  out = lax.dot_general(lhs, rhs, dimension_numbers, precision=lax.Precision.DEFAULT)
  return out, precise(lhs_dot, rhs) + precise(lhs, rhs_dot)


# ----------------------------------------------------------------------------- direct path


def _quantize_with_new_scale(compute_dtype, q_dtype, inp, scale, amax_history):
  new_scale, new_history = update_fp8_meta(inp, q_dtype, scale, amax_history)
  q = quantize(inp, q_dtype, to_float32(new_scale), compute_dtype)
  return q, new_scale, new_history


@_public
@partial(custom_vjp, nondiff_argnums=(0, 1))
def in_q(compute_dtype, q_dtype, inp, scale, amax_history):
  """``(quantized input, updated scale)``; no gradient reaches ``inp`` through it."""
  q, new_scale, _ = _quantize_with_new_scale(compute_dtype, q_dtype, inp, scale, amax_history)
  return q, new_scale


@_public
def in_q_fwd(compute_dtype, q_dtype, inp, scale, amax_history):
  q, new_scale, new_history = _quantize_with_new_scale(compute_dtype, q_dtype, inp, scale,
                                                       amax_history)
  return (q, new_scale), (new_scale, new_history)


@_public
def in_q_bwd(compute_dtype, q_dtype, res, _):
  # no gradient for the input; the updated meta goes to the scale/history arguments
  return (None, *res)


in_q.defvjp(in_q_fwd, in_q_bwd)


@_public
@partial(custom_vjp, nondiff_argnums=(0,))
def out_dq(dq_type, lhs_scale, rhs_scale, out):
  """Dequantize a dot's output by the product of its operands' scales."""
  return dequantize(out, dq_type, to_float32(lhs_scale) * to_float32(rhs_scale))


@_public
def out_dq_fwd(dq_type, lhs_scale, rhs_scale, out):
  return out_dq(dq_type, lhs_scale, rhs_scale, out), None


@_public
def out_dq_bwd(dq_type, _, g):
  return None, None, g


out_dq.defvjp(out_dq_fwd, out_dq_bwd)


def _fp8_dot(q_lhs, q_rhs, dimension_numbers, preferred_element_type):
  return lax.dot_general(q_lhs, q_rhs, dimension_numbers,
                         preferred_element_type=preferred_element_type,
                         precision=lax.Precision.DEFAULT)


@_public
@partial(custom_vjp, nondiff_argnums=(8, 9))
def quantized_dot(lhs, q_lhs, lhs_scale, rhs, q_rhs, rhs_scale, out_grad_scale,
                  out_grad_amax_history, dimension_numbers, preferred_element_type=None):
  """The dot of FP8 operands; the backward pass quantizes the gradient to E5M2.

  ``lhs_scale``/``rhs_scale`` are this step's scales; ``out_grad_scale`` and
  ``out_grad_amax_history`` are the gradient meta of the previous step.
  """
  return _fp8_dot(q_lhs, q_rhs, dimension_numbers, preferred_element_type)


@_public
def quantized_dot_fwd(lhs, q_lhs, lhs_scale, rhs, q_rhs, rhs_scale, out_grad_scale,
                      out_grad_amax_history, dimension_numbers, preferred_element_type):
  residuals = (lhs, q_lhs, lhs_scale, rhs, q_rhs, rhs_scale, out_grad_scale,
               out_grad_amax_history)
  return _fp8_dot(q_lhs, q_rhs, dimension_numbers, preferred_element_type), residuals


@_public
def quantized_dot_bwd(dimension_numbers, preferred_element_type, res, g):
  lhs, q_lhs, lhs_scale, rhs, q_rhs, rhs_scale, grad_scale, grad_history = res
  new_grad_scale, new_grad_history = update_fp8_meta(g, jnp.float8_e5m2, grad_scale,
                                                     grad_history)
  q_g = quantize(g, jnp.float8_e5m2, to_float32(new_grad_scale), preferred_element_type)
  transpose_args = {'dimension_numbers': dimension_numbers, 'precision': lax.Precision.HIGHEST,
                    'preferred_element_type': preferred_element_type}
  grad_scale32 = to_float32(new_grad_scale)

  grad_lhs = dot_general_transpose_lhs(q_g, lhs, q_rhs, **transpose_args)
  grad_lhs = dequantize(grad_lhs, preferred_element_type, to_float32(rhs_scale) * grad_scale32)
  grad_rhs = dot_general_transpose_rhs(q_g, q_lhs, rhs, **transpose_args)
  grad_rhs = dequantize(grad_rhs, preferred_element_type, to_float32(lhs_scale) * grad_scale32)
  no_grad = (None, None)
  return (grad_lhs, *no_grad, grad_rhs, *no_grad, new_grad_scale, new_grad_history)


quantized_dot.defvjp(quantized_dot_fwd, quantized_dot_bwd)


@_public
def fp8_scaled_dot_general(lhs, rhs, dimension_numbers, precision=None,
                           preferred_element_type=None, *, lhs_scale=None, rhs_scale=None,
                           grad_scale=None, lhs_amax_history=None, rhs_amax_history=None,
                           grad_amax_history=None, quantize_compute_type=jnp.float32):
  """A ``dot_general`` that quantizes both operands to E4M3 and its gradient to E5M2.

  ``precision`` is ignored (with a warning): the FP8 dot fixes it.
  """
  if precision is not None:
    warnings.warn('The function fp8_scaled_dot_general will set the "precision" and '
                  'disregard any provided "precision" argument.', stacklevel=2)
  e4m3 = jnp.float8_e4m3fn
  q_lhs, lhs_scale = in_q(quantize_compute_type, e4m3, lhs, lhs_scale, lhs_amax_history)
  q_rhs, rhs_scale = in_q(quantize_compute_type, e4m3, rhs, rhs_scale, rhs_amax_history)
  y = quantized_dot(lhs, q_lhs, lhs_scale, rhs, q_rhs, rhs_scale, grad_scale, grad_amax_history,
                    dimension_numbers, preferred_element_type)
  return out_dq(dq_type=preferred_element_type, lhs_scale=lhs_scale, rhs_scale=rhs_scale, out=y)
