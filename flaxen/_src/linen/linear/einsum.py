"""``Einsum``: an einsum of the input with a learned kernel, plus a bias over the kept kernel axes.

Invariants:
  * the equation has exactly two operands, ``'<input>,<kernel>-><output>'``
    (spaces ignored), given either as the field or at call time;
  * the ``kernel`` param has exactly the shape ``shape``;
  * the ``bias`` has one axis per kernel letter that survives into the output,
    **in output order** (for ``'abc,cde->abed'`` the bias is ``(e, d)``), and is
    broadcast over the other output axes;
  * ellipses are expanded with opt_einsum's parser (the one ``jnp.einsum``
    itself uses), so the letters an ellipsis stands for are the reference's;
  * ``preferred_element_type`` is passed to ``jnp.einsum``.
"""

from __future__ import annotations

import functools
from typing import Any

import jax.numpy as jnp
import opt_einsum

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import BadLayerInput, layer_error, layer_message
from flaxen._src.linen.dtypes import as_array, promote_dtype
from flaxen._src.linen.linear.dense import default_kernel_init
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.helpers import merge_param
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer, PrecisionLike, PromoteDtypeFn, Shape

__all__ = ['Einsum']


def _check_equation(mdl: Any, equation: str) -> str:
  """Strips spaces and checks the two-operand, explicit form (the reference's texts)."""
  equation = equation.replace(' ', '')
  if '->' not in equation:
    raise layer_error(mdl, '`einsum_str` equation must be explicit and include "->".',
                      hint=f'got {equation!r}')
  commas = equation.count(',')
  if commas != 1:
    raise layer_error(mdl, '`einsum_str` equation must have exactly two operands and '
                           'therefore, exactly one comma character, instead of '
                           f'{commas}', hint=f'got {equation!r}')
  return equation


class _Shape:
  """Stands in for an operand: opt_einsum's parser only reads ``.shape``."""

  def __init__(self, shape: tuple[int, ...]):
    self.shape = shape


@functools.lru_cache(maxsize=512)
def _letters(equation: str, lhs_shape: tuple[int, ...], rhs_shape: tuple[int, ...]
             ) -> tuple[str, str]:
  """``(kernel_letters, output_letters)`` with ellipses spelled out, as opt_einsum does."""
  operands, output, _ = opt_einsum.parser.parse_einsum_input(
    (equation, _Shape(lhs_shape), _Shape(rhs_shape)))
  return operands.split(',')[1], output


def bias_layout(mdl: Any, equation: str, inputs: Array, kernel: Array
                ) -> tuple[tuple[int, ...], tuple[int, ...]]:
  """``(bias_shape, broadcast_shape)``: kernel sizes of the output letters, in output order.

  ``broadcast_shape`` has the output's rank, with 1 where an output axis does
  not come from the kernel.
  """
  kernel_letters, output = _letters(equation, tuple(inputs.shape), tuple(kernel.shape))
  position = {letter: i for i, letter in enumerate(kernel_letters)}
  if len(position) != len(mdl.shape):
    raise BadLayerInput(layer_message(
      mdl, f'the kernel operand {kernel_letters!r} of the equation names {len(position)} '
           f'distinct axes but shape={tuple(mdl.shape)} has {len(mdl.shape)}'))
  bias_shape: list[int] = []
  broadcast_shape = [1] * len(output)
  for out_axis, letter in enumerate(output):
    if letter in position:
      size = mdl.shape[position[letter]]
      bias_shape.append(size)
      broadcast_shape[out_axis] = size
  return tuple(bias_shape), tuple(broadcast_shape)


@set_module('flaxen.linen.linear')
class Einsum(Module):
  """An einsum contraction of the input with a learned kernel of shape ``shape``.

  Attributes:
    shape: shape of ``kernel``.
    einsum_str: two-operand explicit equation ``'<input>,<kernel>-><out>'``;
      may instead be given at call time (exactly one of the two).
    use_bias: add a bias over the kernel axes that appear in the output.
    dtype: computation dtype (default: inferred).
    param_dtype: dtype of the params (default float32).
    precision: ``lax.Precision`` of the einsum.
    kernel_init: initializer of ``kernel``.
    bias_init: initializer of ``bias``.
    promote_dtype: dtype-promotion function.
    preferred_element_type: accumulation/result dtype passed to ``jnp.einsum``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Einsum((5, 3, 4), 'abc,cde->abed')
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 6, 5)))
    >>> variables['params']['bias'].shape  # output order: e, then d
    (4, 3)
  """

  shape: Shape
  einsum_str: str | None = None
  use_bias: bool = True
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  promote_dtype: PromoteDtypeFn = promote_dtype
  preferred_element_type: Dtype | None = None

  @compact
  def __call__(self, inputs: Array, einsum_str: str | None = None) -> Array:
    """Computes ``einsum(einsum_str, inputs, kernel) + bias``.

    Args:
      inputs: the left operand.
      einsum_str: the equation, if not given as an attribute.

    Returns:
      The contraction result.

    Raises:
      ValueError: for an implicit equation or one without exactly two operands.
    """
    equation = _check_equation(self, merge_param('einsum_str', self.einsum_str, einsum_str))
    inputs = as_array(inputs)
    kernel = self.param('kernel', self.kernel_init, self.shape, self.param_dtype)
    bias, broadcast_shape = None, None
    if self.use_bias:
      bias_shape, broadcast_shape = bias_layout(self, equation, inputs, kernel)
      bias = self.param('bias', self.bias_init, bias_shape, self.param_dtype)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = jnp.einsum(equation, inputs, kernel, precision=self.precision,
                   preferred_element_type=self.preferred_element_type)
    if bias is not None:
      y += jnp.reshape(bias, broadcast_shape)
    return y
