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

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import BadLayerInput, input_hint, layer_error, layer_message
from flaxen._src.linen.dtypes import as_array, promote_dtype
from flaxen._src.linen.linear import conv_utils
from flaxen._src.linen.linear.dense import default_kernel_init
from flaxen._src.linen.module.compact import compact, nowrap
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import (
  Array,
  ConvGeneralDilatedT,
  Dtype,
  Initializer,
  PaddingLike,
  PrecisionLike,
  PromoteDtypeFn,
)

__all__ = ['Conv', 'ConvLocal', 'ConvTranspose']


def kernel_size_tuple(mdl: Any) -> tuple[int, ...]:
  """An int ``kernel_size`` is a 1-D kernel; anything else is taken as a sequence."""
  if isinstance(mdl.kernel_size, int):
    return (mdl.kernel_size,)
  return tuple(mdl.kernel_size)


def per_dim(value: Any, n: int) -> tuple[int, ...]:
  """``None`` -> ones, int -> repeated ``n`` times, a sequence -> a tuple of it."""
  if value is None:
    value = 1
  if isinstance(value, int):
    return (value,) * n
  return tuple(value)


class BatchFold:
  """Folds the leading batch axes of ``(*batch, *spatial, C)`` into one, and back.

  With exactly one batch axis nothing is reshaped; with none (or several) the
  input is reshaped to ``(-1, *spatial, C)`` and the output's leading axis is
  unfolded again. ``problem`` describes an input of too low a rank (the
  convolution then fails in lax, as in the reference, and gets this note).
  """

  def __init__(self, mdl: Any, inputs: Array, n_spatial: int):
    self.count = inputs.ndim - (n_spatial + 1)
    self.batch_shape = inputs.shape[:self.count]
    self.problem = None
    if self.count < 0:
      self.problem = (f'expected inputs (*batch, {n_spatial} spatial axes, features) for '
                      f'kernel_size of length {n_spatial}; got shape {inputs.shape}')

  def fold(self, x: Array) -> Array:
    return x if self.count == 1 else jnp.reshape(x, (-1,) + x.shape[self.count:])

  def unfold(self, y: Array) -> Array:
    return y if self.count == 1 else jnp.reshape(y, self.batch_shape + y.shape[1:])


def layer_padding(mdl: Any, n: int) -> Any:
  """``canonicalize_padding(mdl.padding, n)``, its error prefixed with the layer's identity."""
  try:
    return conv_utils.canonicalize_padding(mdl.padding, n)
  except ValueError as e:
    raise layer_error(mdl, str(e)) from None


def check_mask(mdl: Any, kernel_shape: tuple[int, ...]) -> None:
  if mdl.mask is not None and mdl.mask.shape != kernel_shape:
    raise layer_error(mdl, 'Mask needs to have the same shape as weights. '
                           f'Shapes are: {mdl.mask.shape}, {kernel_shape}')


class _Conv(Module):
  """Fields and call logic shared by ``Conv`` and ``ConvLocal``."""

  features: int
  kernel_size: int | Sequence[int]
  strides: None | int | Sequence[int] = 1
  padding: PaddingLike = 'SAME'
  input_dilation: None | int | Sequence[int] = 1
  kernel_dilation: None | int | Sequence[int] = 1
  feature_group_count: int = 1
  use_bias: bool = True
  mask: Array | None = None
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  promote_dtype: PromoteDtypeFn = promote_dtype
  conv_general_dilated: ConvGeneralDilatedT | None = None
  conv_general_dilated_cls: Any = None

  @property
  def shared_weights(self) -> bool:
    """True for one kernel shared by every output position (``Conv``)."""
    raise NotImplementedError

  @nowrap
  def _conv_fn(self) -> ConvGeneralDilatedT:
    if self.conv_general_dilated_cls is not None:
      return self.conv_general_dilated_cls()
    if self.conv_general_dilated is not None:
      return self.conv_general_dilated
    return lax.conv_general_dilated

  @nowrap
  def _shared_kernel_shape(self, kernel_size: tuple[int, ...], in_features: int
                           ) -> tuple[int, ...]:
    groups = self.feature_group_count
    if in_features % groups:
      raise BadLayerInput(layer_message(
        self, f'feature_group_count={groups} must divide the input features ({in_features})'))
    return kernel_size + (in_features // groups, self.features)

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
    inputs = as_array(inputs)
    batch = BatchFold(self, inputs, n)
    with input_hint(self, batch.problem):
      return self._convolve(batch, batch.fold(inputs), kernel_size)

  @nowrap
  def _convolve(self, batch: BatchFold, inputs: Array, kernel_size: tuple[int, ...]) -> Array:
    n = len(kernel_size)
    strides = per_dim(self.strides, n)
    input_dilation = per_dim(self.input_dilation, n)
    kernel_dilation = per_dim(self.kernel_dilation, n)
    padding = layer_padding(self, n)
    if padding == 'CAUSAL' and n != 1:
      raise layer_error(self, 'Causal padding is only implemented for 1D convolutions.',
                        hint=f'kernel_size is {kernel_size}')
    if padding in ('CIRCULAR', 'REFLECT', 'CAUSAL'):
      inputs = conv_utils.pre_pad(inputs, padding, kernel_size, kernel_dilation)
      padding = 'VALID'
    dn = conv_utils.conv_dimension_numbers(inputs.ndim)
    in_features = inputs.shape[-1]
    conv = self._conv_fn()

    if self.shared_weights:
      kernel_shape = self._shared_kernel_shape(kernel_size, in_features)
    else:
      if self.feature_group_count != 1:
        raise layer_error(self, '`lax.conv_general_dilated_local` does not support '
                                f'`feature_group_count != 1`, got `{self.feature_group_count}`.',
                          NotImplementedError)
      # The unshared kernel has one slice per output position: ask lax for the
      # output shape a shared convolution would have.
      probe = jax.ShapeDtypeStruct(kernel_size + (in_features, self.features), inputs.dtype)
      out_shape = jax.eval_shape(
        lambda lhs, rhs: conv(lhs, rhs, strides, padding, lhs_dilation=input_dilation,
                              rhs_dilation=kernel_dilation, dimension_numbers=dn),
        inputs, probe).shape
      kernel_shape = out_shape[1:-1] + (np.prod(kernel_size) * in_features, self.features)

    check_mask(self, kernel_shape)
    kernel = self.param('kernel', self.kernel_init, kernel_shape, self.param_dtype)
    if self.mask is not None:
      kernel *= self.mask
    bias = None
    if self.use_bias:
      bias_shape = (self.features,) if self.shared_weights else out_shape[1:]
      bias = self.param('bias', self.bias_init, bias_shape, self.param_dtype)

    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    if self.shared_weights:
      y = conv(inputs, kernel, strides, padding, lhs_dilation=input_dilation,
               rhs_dilation=kernel_dilation, dimension_numbers=dn,
               feature_group_count=self.feature_group_count, precision=self.precision)
    else:
      y = lax.conv_general_dilated_local(
        lhs=inputs, rhs=kernel, window_strides=strides, padding=padding,
        filter_shape=kernel_size, lhs_dilation=input_dilation, rhs_dilation=kernel_dilation,
        dimension_numbers=dn, precision=self.precision)
    if bias is not None:
      y += lax.reshape(bias, (1,) * (y.ndim - bias.ndim) + bias.shape)
    return batch.unfold(y)


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
    promote_dtype: dtype-promotion function.
    conv_general_dilated: optional replacement for ``lax.conv_general_dilated``.
    conv_general_dilated_cls: optional factory of such a function.

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
    padding: ``'SAME'`` (default), ``'VALID'``, ``'SAME_LOWER'``, ``'CIRCULAR'``,
      an int or per-dim pairs.
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
    preferred_element_type: accumulation/result dtype passed to ``lax.conv_transpose``.

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
  padding: PaddingLike = 'SAME'
  kernel_dilation: None | int | Sequence[int] = None
  use_bias: bool = True
  mask: Array | None = None
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = initializers.zeros_init()
  transpose_kernel: bool = False
  promote_dtype: PromoteDtypeFn = promote_dtype
  preferred_element_type: Dtype | None = None

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Applies the transposed convolution.

    Args:
      inputs: array of shape ``(*batch, *spatial, features_in)``.

    Returns:
      Array of shape ``(*batch, *out_spatial, features)``.
    """
    kernel_size = kernel_size_tuple(self)
    inputs = as_array(inputs)
    batch = BatchFold(self, inputs, len(kernel_size))
    with input_hint(self, batch.problem):
      return batch.unfold(self._transpose(batch.fold(inputs), kernel_size))

  @nowrap
  def _transpose(self, inputs: Array, kernel_size: tuple[int, ...]) -> Array:
    n = len(kernel_size)
    strides = per_dim(self.strides, n)
    kernel_dilation = per_dim(self.kernel_dilation, n)
    in_features = inputs.shape[-1]
    io = (self.features, in_features) if self.transpose_kernel else (in_features, self.features)
    kernel_shape = kernel_size + io
    check_mask(self, kernel_shape)
    kernel = self.param('kernel', self.kernel_init, kernel_shape, self.param_dtype)
    if self.mask is not None:
      kernel *= self.mask
    # CIRCULAR is done by a VALID transpose and a periodic wrap; every other
    # string goes to lax unchanged (lax raises for the ones it does not know).
    padding = layer_padding(self, n)
    circular = padding == 'CIRCULAR'
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = lax.conv_transpose(inputs, kernel, strides, 'VALID' if circular else padding,
                           rhs_dilation=kernel_dilation, transpose_kernel=self.transpose_kernel,
                           precision=self.precision,
                           preferred_element_type=self.preferred_element_type)
    if self.padding == 'CIRCULAR':
      y = conv_utils.circular_transpose_wrap(y, inputs.shape[1:-1], strides,
                                             self.transpose_kernel)
    if bias is not None:
      y += lax.reshape(bias, (1,) * (y.ndim - 1) + (bias.size,))
    return y
