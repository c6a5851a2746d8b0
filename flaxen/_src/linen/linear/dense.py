"""Dense layers: ``Dense``, ``DenseGeneral`` and ``Einsum``.

Conventions (all pinned by the golden data):
  * row-vector layout: ``Dense`` has ``kernel`` of shape ``(in, features)`` and
    computes ``inputs @ kernel + bias`` over the last input axis;
  * params are created kernel first, then bias, each with ``param_dtype``;
  * ``DenseGeneral`` initializes its kernel as the flattened 2-D matrix
    ``(prod(batch) * prod(contracted), prod(features))`` and reshapes it, so
    fan-in/fan-out (and thus the values) equal those of that matrix;
  * the computation dtype is ``promote_dtype(inputs, kernel, bias, dtype=dtype)``;
  * the bias is reshaped to the full output rank before it is added (no
    implicit rank promotion).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import (
  canonicalize_tuple,
  layer_error,
  normalize_axes,
  reshape_init,
)
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.helpers import merge_param
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module

__all__ = ['Dense', 'DenseGeneral', 'Einsum']

Array = Any
Dtype = Any
Initializer = Callable[..., Any]
default_kernel_init = initializers.lecun_normal()


def _pick_dot_general(mdl: Any) -> Callable[..., Array]:
  if mdl.dot_general_cls is not None:
    return mdl.dot_general_cls()
  if mdl.dot_general is not None:
    return mdl.dot_general
  return lax.dot_general


def _check_array(mdl: Any, inputs: Any) -> Array:
  inputs = jnp.asarray(inputs)
  if inputs.ndim == 0:
    raise layer_error(mdl, 'expected an input with at least one axis (the features axis), '
                           'got a scalar.')
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
    dot_general: optional replacement for ``lax.dot_general``.
    dot_general_cls: optional factory of a ``dot_general`` callable.
    promote_dtype: dtype-promotion function (see ``nn.dtypes.promote_dtype``).

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
  precision: Any = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  dot_general: Callable[..., Any] | None = None
  dot_general_cls: Any = None
  promote_dtype: Callable[..., Any] = promote_dtype

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Applies the transformation to the last axis of ``inputs``.

    Args:
      inputs: array of shape ``(..., in)``.

    Returns:
      Array of shape ``(..., features)``.
    """
    inputs = _check_array(self, inputs)
    kernel = self.param('kernel', self.kernel_init, (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = _pick_dot_general(self)(inputs, kernel, (((inputs.ndim - 1,), (0,)), ((), ())),
                                precision=self.precision)
    if bias is not None:
      y += jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
    return y


@set_module('flaxen.linen.linear')
class DenseGeneral(Module):
  """A linear transformation contracting any set of axes, with optional batch axes.

  Attributes:
    features: int or tuple of output feature sizes.
    axis: int or tuple of input axes to contract (default -1).
    batch_dims: leading input axes treated as batch axes of the kernel; must be
      consecutive and start at 0.
    use_bias: whether to add a bias (default True).
    dtype: computation dtype (default: inferred).
    param_dtype: dtype of the params (default float32).
    kernel_init: initializer of ``kernel`` (called with the flattened 2-D shape).
    bias_init: initializer of ``bias`` (called with the flattened 1-D shape).
    precision: ``lax.Precision`` of the product.
    dot_general: optional replacement for ``lax.dot_general``.
    dot_general_cls: optional factory of a ``dot_general`` callable.
    promote_dtype: dtype-promotion function.

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
  precision: Any = None
  dot_general: Callable[..., Any] | None = None
  dot_general_cls: Any = None
  promote_dtype: Callable[..., Any] = promote_dtype

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Contracts ``axis`` of ``inputs`` with the kernel.

    Args:
      inputs: array with the contracted (and batch) axes.

    Returns:
      Array of shape ``batch + remaining input axes + features``.
    """
    inputs = _check_array(self, inputs)
    features = canonicalize_tuple(self.features)
    ndim = inputs.ndim
    batch_dims = normalize_axes(self, self.batch_dims, ndim, 'batch_dims')
    if batch_dims and set(batch_dims) != set(range(len(batch_dims))):
      raise layer_error(self, f'batch_dims {tuple(self.batch_dims)} must be consecutive leading '
                              'dimensions starting from 0.')
    axis = normalize_axes(self, self.axis, ndim, 'axis')
    if set(axis) & set(batch_dims):
      raise layer_error(self, f'axis {tuple(axis)} overlaps batch_dims {batch_dims}.')
    n_batch, n_axis = len(batch_dims), len(axis)

    batch_shape = tuple(inputs.shape[ax] for ax in batch_dims)
    contract_shape = tuple(inputs.shape[ax] for ax in axis)
    # Non-contracted axes of the output, with size 1 where they are not batch axes.
    expanded_batch_shape = tuple(inputs.shape[ax] if ax in batch_dims else 1
                                 for ax in range(ndim) if ax not in axis)
    n_batch_total = int(np.prod(batch_shape))
    flat_kernel = (n_batch_total * int(np.prod(contract_shape)), int(np.prod(features)))
    kernel = self.param('kernel', reshape_init(self.kernel_init, flat_kernel),
                        batch_shape + contract_shape + features, self.param_dtype)
    if self.use_bias:
      flat_bias = (n_batch_total * int(np.prod(features)),)
      bias = self.param('bias', reshape_init(self.bias_init, flat_bias),
                        batch_shape + features, self.param_dtype)
    else:
      bias = None
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)

    batch_ind = tuple(range(n_batch))
    contract_ind = tuple(range(n_batch, n_batch + n_axis))
    out = _pick_dot_general(self)(inputs, kernel, ((axis, contract_ind), (batch_dims, batch_ind)),
                                  precision=self.precision)
    if bias is not None:
      out += jnp.reshape(bias, expanded_batch_shape + features)
    return out


def _parse_einsum(mdl: Any, einsum_str: str) -> tuple[str, str, str]:
  einsum_str = einsum_str.replace(' ', '')
  if '->' not in einsum_str:
    raise layer_error(mdl, f'einsum_str {einsum_str!r} must be explicit and include "->".')
  if einsum_str.count(',') != 1:
    raise layer_error(mdl, f'einsum_str {einsum_str!r} must have exactly two operands, i.e. '
                           f'exactly one comma; found {einsum_str.count(",")}.')
  ins, out = einsum_str.split('->')
  lhs, rhs = ins.split(',')
  return lhs, rhs, out


def _expand_ellipsis(lhs: str, rhs: str, out: str, lhs_nd: int, rhs_nd: int
                     ) -> tuple[str, str, str]:
  """Replaces ``...`` by fresh letters so every axis has a name (numpy broadcasting rules)."""
  if '...' not in lhs + rhs + out:
    return lhs, rhs, out
  used = set(lhs + rhs + out)
  free = [c for c in 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' if c not in used]
  n_lhs = lhs_nd - (len(lhs) - 3) if '...' in lhs else 0
  n_rhs = rhs_nd - (len(rhs) - 3) if '...' in rhs else 0
  fill = ''.join(free[:max(n_lhs, n_rhs, 0)])
  # Ellipsis dims are right-aligned, so a shorter one takes the trailing letters.
  return (lhs.replace('...', fill[len(fill) - n_lhs:] if n_lhs else ''),
          rhs.replace('...', fill[len(fill) - n_rhs:] if n_rhs else ''),
          out.replace('...', fill))


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

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Einsum((5, 3, 4), 'abc,cde->abde')
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 6, 5)))
    >>> variables['params']['bias'].shape
    (3, 4)
  """

  shape: Sequence[int]
  einsum_str: str | None = None
  use_bias: bool = True
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: Any = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  promote_dtype: Callable[..., Any] = promote_dtype

  @compact
  def __call__(self, inputs: Array, einsum_str: str | None = None) -> Array:
    """Computes ``einsum(einsum_str, inputs, kernel) + bias``.

    Args:
      inputs: the left operand.
      einsum_str: the equation, if not given as an attribute.

    Returns:
      The contraction result.
    """
    einsum_str = merge_param('einsum_str', self.einsum_str, einsum_str)
    lhs, rhs, out = _parse_einsum(self, einsum_str)
    inputs = jnp.asarray(inputs)
    kernel = self.param('kernel', self.kernel_init, tuple(self.shape), self.param_dtype)
    if self.use_bias:
      _, rhs_full, out_full = _expand_ellipsis(lhs, rhs, out, inputs.ndim, len(self.shape))
      bias_shape, bcast = [], [1] * len(out_full)
      for i, ch in enumerate(rhs_full):
        if ch in out_full:
          bias_shape.append(int(self.shape[i]))
          bcast[out_full.index(ch)] = int(self.shape[i])
      bias = self.param('bias', self.bias_init, tuple(bias_shape), self.param_dtype)
    else:
      bias, bcast = None, None
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = jnp.einsum(einsum_str.replace(' ', ''), inputs, kernel, precision=self.precision)
    if bias is not None:
      y += jnp.reshape(bias, tuple(bcast))
    return y
