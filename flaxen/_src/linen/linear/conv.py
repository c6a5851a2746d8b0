"""Convolutions: ``Conv`` (shared weights), ``ConvLocal`` (unshared) and ``ConvTranspose``.

Layout is channels-last: inputs ``(*batch, *spatial, features)`` with
``len(spatial) == len(kernel_size)``; kernels ``(*kernel_size, in // groups, features)``.

Invariants:
  * an int ``kernel_size`` means a 1-D kernel ``(kernel_size,)``;
  * any number of leading batch dims: they are flattened into one before the
    convolution and restored after; a missing batch dim is added and removed;
  * ``strides`` / ``input_dilation`` / ``kernel_dilation`` accept ``None`` (1),
    an int (same on every spatial dim) or one int per spatial dim;
  * CIRCULAR / REFLECT / CAUSAL are done by explicit input padding followed by a
    ``'VALID'`` convolution (see ``conv_utils``);
  * ``mask`` (same shape as the kernel) multiplies the kernel before use;
  * params are created kernel then bias; ``ConvLocal``'s kernel is
    ``(*out_spatial, prod(kernel_size) * in, features)`` and its bias
    ``(*out_spatial, features)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import layer_error
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.linen.linear import conv_utils
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module

__all__ = ['Conv', 'ConvLocal', 'ConvTranspose']

Array = Any
Dtype = Any
Initializer = Callable[..., Any]
default_kernel_init = initializers.lecun_normal()


def kernel_size_tuple(mdl: Any) -> tuple[int, ...]:
  ks = mdl.kernel_size
  if isinstance(ks, int) and not isinstance(ks, bool):
    return (ks,)
  if not isinstance(ks, Sequence) or not all(isinstance(k, int) for k in ks) or not ks:
    raise layer_error(mdl, f'kernel_size must be an int or a non-empty sequence of ints, got '
                           f'{ks!r}.', TypeError)
  return tuple(ks)


def per_dim(mdl: Any, name: str, value: Any, n: int) -> tuple[int, ...]:
  """``None`` → ones, int → repeated, sequence → checked to have ``n`` entries."""
  if value is None:
    return (1,) * n
  if isinstance(value, int):
    return (value,) * n
  value = tuple(value)
  if len(value) != n:
    raise layer_error(mdl, f'{name}={value} must have one entry per spatial dimension '
                           f'({n}, from kernel_size).')
  return value


def flatten_batch(mdl: Any, inputs: Any, n_spatial: int) -> tuple[Array, tuple[int, ...] | None]:
  """Reshapes ``(*batch, *spatial, C)`` to ``(prod(batch), *spatial, C)``."""
  inputs = jnp.asarray(inputs)
  n_batch = inputs.ndim - (n_spatial + 1)
  if n_batch < 0:
    raise layer_error(mdl, f'expected an input of shape (*batch, {n_spatial} spatial dims, '
                           f'features) for a {n_spatial}-D kernel, got shape {inputs.shape}.')
  if n_batch == 1:
    return inputs, None
  batch_shape = inputs.shape[:n_batch]
  return inputs.reshape((int(np.prod(batch_shape)),) + inputs.shape[n_batch:]), batch_shape


def restore_batch(y: Array, batch_shape: tuple[int, ...] | None) -> Array:
  return y if batch_shape is None else y.reshape(batch_shape + y.shape[1:])


class _Conv(Module):
  """Fields and call logic shared by ``Conv`` and ``ConvLocal``."""

  features: int
  kernel_size: int | Sequence[int]
  strides: None | int | Sequence[int] = 1
  padding: conv_utils.PaddingLike = 'SAME'
  input_dilation: None | int | Sequence[int] = 1
  kernel_dilation: None | int | Sequence[int] = 1
  feature_group_count: int = 1
  use_bias: bool = True
  mask: Array | None = None
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: Any = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  conv_general_dilated: Callable[..., Any] | None = None
  conv_general_dilated_cls: Any = None
  promote_dtype: Callable[..., Any] = promote_dtype

  @property
  def shared_weights(self) -> bool:
    raise NotImplementedError

  def _conv_fn(self) -> Callable[..., Array]:
    if self.conv_general_dilated_cls is not None:
      return self.conv_general_dilated_cls()
    if self.conv_general_dilated is not None:
      return self.conv_general_dilated
    return lax.conv_general_dilated

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Convolves ``inputs`` with the kernel.

    Args:
      inputs: array of shape ``(*batch, *spatial, features_in)``; the batch
        dims may be absent or several.

    Returns:
      Array of shape ``(*batch, *out_spatial, features)``.
    """
    kernel_size = kernel_size_tuple(self)
    n = len(kernel_size)
    inputs, batch_shape = flatten_batch(self, inputs, n)
    strides = per_dim(self, 'strides', self.strides, n)
    input_dilation = per_dim(self, 'input_dilation', self.input_dilation, n)
    kernel_dilation = per_dim(self, 'kernel_dilation', self.kernel_dilation, n)
    try:
      padding = conv_utils.canonicalize_padding(self.padding, n)
    except ValueError as e:
      raise layer_error(self, str(e)) from None
    if padding == 'CAUSAL' and n != 1:
      raise layer_error(self, f"padding='CAUSAL' is only implemented for 1-D convolutions; "
                              f'kernel_size is {kernel_size}.')
    if padding in ('CIRCULAR', 'REFLECT', 'CAUSAL'):
      inputs = conv_utils.pre_pad(inputs, padding, kernel_size, kernel_dilation)
      padding = 'VALID'
    dn = conv_utils.conv_dimension_numbers(inputs.ndim)
    in_features = inputs.shape[-1]
    groups = self.feature_group_count
    conv = self._conv_fn()

    if self.shared_weights:
      if in_features % groups or self.features % groups:
        raise layer_error(self, f'feature_group_count={groups} must divide both the input '
                                f'features ({in_features}) and features ({self.features}).')
      kernel_shape = kernel_size + (in_features // groups, self.features)
    else:
      if groups != 1:
        raise layer_error(self, f'unshared (local) convolutions do not support '
                                f'feature_group_count != 1, got {groups}.', NotImplementedError)
      out_shape = jax.eval_shape(
        lambda lhs, rhs: conv(lhs, rhs, strides, padding, lhs_dilation=input_dilation,
                              rhs_dilation=kernel_dilation, dimension_numbers=dn),
        inputs, jax.ShapeDtypeStruct(kernel_size + (in_features, self.features), inputs.dtype),
      ).shape
      kernel_shape = out_shape[1:-1] + (int(np.prod(kernel_size)) * in_features, self.features)

    if self.mask is not None and tuple(self.mask.shape) != kernel_shape:
      raise layer_error(self, f'mask needs the same shape as the kernel: mask shape '
                              f'{tuple(self.mask.shape)}, kernel shape {kernel_shape}.')
    kernel = self.param('kernel', self.kernel_init, kernel_shape, self.param_dtype)
    if self.mask is not None:
      kernel *= self.mask
    if self.use_bias:
      bias_shape = (self.features,) if self.shared_weights else out_shape[1:]
      bias = self.param('bias', self.bias_init, bias_shape, self.param_dtype)
    else:
      bias = None

    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    if self.shared_weights:
      y = conv(inputs, kernel, strides, padding, lhs_dilation=input_dilation,
               rhs_dilation=kernel_dilation, dimension_numbers=dn,
               feature_group_count=groups, precision=self.precision)
    else:
      y = lax.conv_general_dilated_local(
        lhs=inputs, rhs=kernel, window_strides=strides, padding=padding,
        filter_shape=kernel_size, lhs_dilation=input_dilation, rhs_dilation=kernel_dilation,
        dimension_numbers=dn, precision=self.precision)
    if bias is not None:
      y += bias.reshape((1,) * (y.ndim - bias.ndim) + bias.shape)
    return restore_batch(y, batch_shape)


@set_module('flaxen.linen.linear')
class Conv(_Conv):
  """A convolution with one kernel shared by every output position.

  Attributes:
    features: number of output features (filters).
    kernel_size: int (1-D) or one int per spatial dim.
    strides: int or one int per spatial dim (default 1).
    padding: ``'SAME'`` (default), ``'VALID'``, ``'CIRCULAR'``, ``'REFLECT'``,
      ``'CAUSAL'`` (1-D), an int, or per-dim ints / ``(low, high)`` pairs.
    input_dilation: int or per-dim (a.k.a. transposed-conv stride).
    kernel_dilation: int or per-dim (a.k.a. atrous convolution).
    feature_group_count: split input and output features into groups.
    use_bias: whether to add a bias (default True).
    mask: optional array multiplied with the kernel (same shape).
    dtype: computation dtype (default: inferred).
    param_dtype: dtype of the params (default float32).
    precision: ``lax.Precision`` of the convolution.
    kernel_init: initializer of ``kernel``.
    bias_init: initializer of ``bias``.
    conv_general_dilated: optional replacement for ``lax.conv_general_dilated``.
    conv_general_dilated_cls: optional factory of such a function.
    promote_dtype: dtype-promotion function.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Conv(features=4, kernel_size=(3, 3))
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 8, 8, 3)))
    >>> variables['params']['kernel'].shape
    (3, 3, 3, 4)
  """

  @property
  def shared_weights(self) -> bool:
    return True


@set_module('flaxen.linen.linear')
class ConvLocal(_Conv):
  """A locally-connected convolution: a separate kernel for each output position.

  Same attributes as ``Conv`` (``feature_group_count`` must be 1).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.ConvLocal(features=4, kernel_size=(3, 3))
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 5, 5, 2)))
    >>> variables['params']['kernel'].shape
    (5, 5, 18, 4)
  """

  @property
  def shared_weights(self) -> bool:
    return False


@set_module('flaxen.linen.linear')
class ConvTranspose(Module):
  """A transposed (fractionally-strided) convolution, via ``lax.conv_transpose``.

  Attributes:
    features: number of output features.
    kernel_size: int (1-D) or one int per spatial dim.
    strides: None (ones), an int or one int per spatial dim.
    padding: ``'SAME'`` (default), ``'VALID'``, ``'CIRCULAR'``, an int or per-dim pairs.
    kernel_dilation: None, an int or one int per spatial dim.
    use_bias: whether to add a bias (default True).
    mask: optional array multiplied with the kernel (same shape).
    dtype: computation dtype (default: inferred).
    param_dtype: dtype of the params (default float32).
    precision: ``lax.Precision`` of the convolution.
    kernel_init: initializer of ``kernel``.
    bias_init: initializer of ``bias``.
    transpose_kernel: flip the spatial axes and swap the in/out feature axes
      of the kernel (gradient-of-conv semantics; kernel ``(*k, features, in)``).
    promote_dtype: dtype-promotion function.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.ConvTranspose(features=4, kernel_size=(3, 3), strides=(2, 2))
    >>> y, _ = layer.init_with_output(jax.random.PRNGKey(0), jnp.ones((1, 4, 4, 3)))
    >>> y.shape
    (1, 8, 8, 4)
  """

  features: int
  kernel_size: int | Sequence[int]
  strides: None | int | Sequence[int] = None
  padding: conv_utils.PaddingLike = 'SAME'
  kernel_dilation: None | int | Sequence[int] = None
  use_bias: bool = True
  mask: Array | None = None
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: Any = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  transpose_kernel: bool = False
  promote_dtype: Callable[..., Any] = promote_dtype

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Applies the transposed convolution.

    Args:
      inputs: array of shape ``(*batch, *spatial, features_in)``.

    Returns:
      Array of shape ``(*batch, *out_spatial, features)``.
    """
    kernel_size = kernel_size_tuple(self)
    n = len(kernel_size)
    inputs, batch_shape = flatten_batch(self, inputs, n)
    strides = per_dim(self, 'strides', self.strides, n)
    dilation = None if self.kernel_dilation is None else per_dim(
      self, 'kernel_dilation', self.kernel_dilation, n)
    in_features = inputs.shape[-1]
    kernel_shape = kernel_size + ((self.features, in_features) if self.transpose_kernel
                                  else (in_features, self.features))
    if self.mask is not None and tuple(self.mask.shape) != kernel_shape:
      raise layer_error(self, f'mask needs the same shape as the kernel: mask shape '
                              f'{tuple(self.mask.shape)}, kernel shape {kernel_shape}.')
    kernel = self.param('kernel', self.kernel_init, kernel_shape, self.param_dtype)
    if self.mask is not None:
      kernel *= self.mask
    try:
      padding = conv_utils.canonicalize_padding(self.padding, n)
    except ValueError as e:
      raise layer_error(self, str(e)) from None
    if padding in ('CAUSAL', 'REFLECT'):
      raise layer_error(self, f'padding={self.padding!r} is not supported by ConvTranspose; '
                              "use 'SAME', 'VALID', 'CIRCULAR' or explicit pads.")
    circular = padding == 'CIRCULAR'
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = lax.conv_transpose(inputs, kernel, strides, 'VALID' if circular else padding,
                           rhs_dilation=dilation, transpose_kernel=self.transpose_kernel,
                           precision=self.precision)
    if circular:
      y = conv_utils.circular_transpose_wrap(y, inputs.shape[1:-1], strides,
                                             self.transpose_kernel)
    if bias is not None:
      y += jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
    return restore_batch(y, batch_shape)
