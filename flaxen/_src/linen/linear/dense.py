"""Dense layers: ``Dense`` (last axis) and ``DenseGeneral`` (any axes, optional batch axes).

Conventions (all pinned by the golden data and the reference):
  * row-vector layout: ``Dense`` has ``kernel`` of shape ``(in, features)`` and
    computes ``inputs @ kernel + bias`` over the last input axis;
  * params are created kernel first, then bias, each with ``param_dtype``;
  * ``DenseGeneral`` sorts its contracted axes (``axis=(-1, -2)`` contracts the
    last two axes in increasing order) and initializes the kernel as the
    flattened 2-D matrix ``(prod(batch) * prod(contracted), prod(features))``
    before reshaping it, so fan-in/fan-out (and thus the values) are those of
    that matrix; the bias likewise as ``(prod(batch) * prod(features),)``;
  * ``batch_dims`` must be exactly ``0, 1, ..., k`` (checked before the axes are
    made positive, as in the reference);
  * the computation dtype is ``promote_dtype(inputs, kernel, bias, dtype=dtype)``;
  * the bias is reshaped to the full output rank before it is added (no
    implicit rank promotion).

Field order equals the reference's (``promote_dtype`` before the deprecated
``dot_general``/``dot_general_cls``), so reprs and positional construction agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
from jax import lax

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import (
  TUPLE_INDEX,
  canonicalize_tuple,
  check_axes_index,
  layer_error,
  reshape_init,
  sorted_axes,
)
from flaxen._src.linen.dtypes import as_array, promote_dtype
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import (
  Array,
  DotGeneralT,
  Dtype,
  Initializer,
  PrecisionLike,
  PromoteDtypeFn,
)

__all__ = ['Dense', 'DenseGeneral', 'default_kernel_init']

default_kernel_init = initializers.lecun_normal()


def pick_dot_general(mdl: Any) -> DotGeneralT:
  """The layer's contraction: ``dot_general_cls()``, else ``dot_general``, else lax's."""
  if mdl.dot_general_cls is not None:
    return mdl.dot_general_cls()
  if mdl.dot_general is not None:
    return mdl.dot_general
  return lax.dot_general


def _as_array(mdl: Any, inputs: Any) -> Array:
  inputs = as_array(inputs)
  if inputs.ndim == 0:
    raise layer_error(mdl, TUPLE_INDEX, IndexError,
                      hint=f'{type(mdl).__name__} contracts the last axis of its input, '
                           'which must have at least one axis; got a scalar')
  return inputs


@set_module('flaxen.linen.linear')
class Dense(Module):
  """A linear transformation over the last axis: ``y = x @ kernel + bias``.

  Attributes:
    features: number of output features.
    use_bias: whether to add a bias (default True).
    dtype: computation dtype (default: inferred from inputs and params).
    param_dtype: dtype of the params (default float32).
    precision: ``lax.Precision`` of the matrix product.
    kernel_init: initializer of ``kernel`` (shape ``(in, features)``).
    bias_init: initializer of ``bias`` (shape ``(features,)``).
    promote_dtype: dtype-promotion function (see ``nn.dtypes.promote_dtype``).
    dot_general: optional replacement for ``lax.dot_general``.
    dot_general_cls: optional factory of a ``dot_general`` callable.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> variables = nn.Dense(3).init(jax.random.PRNGKey(0), jnp.ones((2, 5)))
    >>> jax.tree_util.tree_map(jnp.shape, variables)
    {'params': {'bias': (3,), 'kernel': (5, 3)}}
  """

  features: int
  use_bias: bool = True
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  promote_dtype: PromoteDtypeFn = promote_dtype
  dot_general: DotGeneralT | None = None
  dot_general_cls: Any = None

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Applies the transformation to the last axis of ``inputs``.

    Args:
      inputs: array of shape ``(..., in)``.

    Returns:
      Array of shape ``(..., features)``.

    Raises:
      IndexError: for a scalar input (as the reference).
    """
    inputs = _as_array(self, inputs)
    kernel = self.param('kernel', self.kernel_init, (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    last = ((inputs.ndim - 1,), (0,))
    y = pick_dot_general(self)(inputs, kernel, (last, ((), ())), precision=self.precision)
    if bias is not None:
      y += lax.reshape(bias, (1,) * (y.ndim - 1) + (bias.size,))  # jnp.reshape's primitive
    return y


def _check_batch_dims(mdl: Any, batch_dims: tuple[int, ...]) -> None:
  """``batch_dims`` must be the leading axes ``0..k`` exactly (the reference's rule and text)."""
  if batch_dims and set(batch_dims) != set(range(max(batch_dims) + 1)):
    raise layer_error(mdl, f'batch_dims {batch_dims} must be consecutive leading '
                           'dimensions starting from 0.')


@set_module('flaxen.linen.linear')
class DenseGeneral(Module):
  """A linear transformation contracting any set of axes, with optional batch axes.

  Attributes:
    features: int or tuple of output feature sizes.
    axis: int or tuple of input axes to contract (default -1); they are
      contracted in increasing order.
    batch_dims: leading input axes treated as batch axes of the kernel; must be
      ``0, 1, ..., k``.
    use_bias: whether to add a bias (default True).
    dtype: computation dtype (default: inferred).
    param_dtype: dtype of the params (default float32).
    kernel_init: initializer of ``kernel`` (called with the flattened 2-D shape).
    bias_init: initializer of ``bias`` (called with the flattened 1-D shape).
    precision: ``lax.Precision`` of the product.
    promote_dtype: dtype-promotion function.
    dot_general: optional replacement for ``lax.dot_general``.
    dot_general_cls: optional factory of a ``dot_general`` callable.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.DenseGeneral(features=(2, 3), axis=(-2, -1))
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((4, 5, 6)))
    >>> variables['params']['kernel'].shape
    (5, 6, 2, 3)
  """

  features: int | Sequence[int]
  axis: int | Sequence[int] = -1
  batch_dims: Sequence[int] = ()
  use_bias: bool = True
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  precision: PrecisionLike = None
  promote_dtype: PromoteDtypeFn = promote_dtype
  dot_general: DotGeneralT | None = None
  dot_general_cls: Any = None

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Contracts ``axis`` of ``inputs`` with the kernel.

    Args:
      inputs: array with the contracted (and batch) axes.

    Returns:
      Array of shape ``batch + remaining input axes + features``.

    Raises:
      ValueError: when ``batch_dims`` are not the leading axes.
      IndexError: when an axis does not exist in ``inputs`` (as the reference).
    """
    features = canonicalize_tuple(self.features)
    raw_batch_dims = canonicalize_tuple(self.batch_dims)
    _check_batch_dims(self, raw_batch_dims)
    inputs = as_array(inputs)
    shape, ndim = inputs.shape, inputs.ndim
    axis = sorted_axes(ndim, self.axis)
    batch_dims = sorted_axes(ndim, raw_batch_dims)
    check_axes_index(self, shape, batch_dims + axis, 'batch_dims + axis')

    batch_shape = tuple(shape[ax] for ax in batch_dims)
    contract_shape = tuple(shape[ax] for ax in axis)
    n_batch_rows = math.prod(batch_shape)
    kernel_init = reshape_init(
      self.kernel_init, (n_batch_rows * math.prod(contract_shape), math.prod(features)))
    kernel = self.param('kernel', kernel_init, batch_shape + contract_shape + features,
                        self.param_dtype)
    bias = None
    if self.use_bias:
      bias_init = reshape_init(self.bias_init, (n_batch_rows * math.prod(features),))
      bias = self.param('bias', bias_init, batch_shape + features, self.param_dtype)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)

    # Kernel axes: batch axes first, then the contracted ones, then the features.
    kernel_batch = tuple(range(len(batch_dims)))
    kernel_contract = tuple(range(len(batch_dims), len(batch_dims) + len(axis)))
    numbers = ((axis, kernel_contract), (batch_dims, kernel_batch))
    out = pick_dot_general(self)(inputs, kernel, numbers, precision=self.precision)
    if bias is not None:
      # dot_general puts the batch axes first; the bias broadcasts over every
      # other kept input axis (size 1 there).
      kept = [ax for ax in range(ndim) if ax not in axis]
      bias_shape = tuple(shape[ax] if ax in batch_dims else 1 for ax in kept) + features
      out += lax.reshape(bias, bias_shape)
    return out
