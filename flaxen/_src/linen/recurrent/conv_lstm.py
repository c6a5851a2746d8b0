"""Convolutional LSTM cell: ``ConvLSTMCell``.

Like ``LSTMCell`` but the input-to-hidden and hidden-to-hidden maps are
convolutions, so inputs and carries keep their spatial axes:
``inputs (*batch, *spatial, in_features)``, ``c, h (*batch, *spatial, features)``.
Two ``Conv`` sub-modules with ``4 * features`` outputs are created, ``ih`` then
``hh``; their sum is split into the gates ``i, g, f, o`` (in that order) and::

  f = σ(f + 1)    c' = f * c + σ(i) * tanh(g)    h' = σ(o) * tanh(c')

``num_feature_axes`` is ``len(kernel_size) + 1`` (spatial axes plus features).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.linen.activation import sigmoid, tanh
from flaxen._src.linen.attention.checks import BadLayerInput, module_where
from flaxen._src.linen.initializers import zeros_init
from flaxen._src.linen.linear import Conv
from flaxen._src.linen.module import compact, nowrap
from flaxen._src.linen.recurrent.base import RNNCellBase
from flaxen._src.linen.recurrent.checks import check_step, split_pair
from flaxen._src.public import set_module

Array = Any
Dtype = Any
Initializer = Any


def _kernel_rank(cell: Any) -> int:
  """Number of spatial axes of ``cell.kernel_size``; a clear error if it is not a sequence."""
  if isinstance(cell.kernel_size, int) or not isinstance(cell.kernel_size, Sequence):
    raise BadLayerInput(
      f'{module_where(cell)}: kernel_size must be a sequence of ints, e.g. (3, 3); got '
      f'{cell.kernel_size!r}.'
    )
  return len(cell.kernel_size)


@set_module('flaxen.linen')
class ConvLSTMCell(RNNCellBase):
  """Convolutional LSTM cell (equations in the module docstring).

  Attributes:
    features: number of convolution filters (hidden features).
    kernel_size: shape of the convolution kernel, a sequence of ints.
    strides: strides of the convolutions (default 1).
    padding: ``'SAME'``, ``'VALID'`` or explicit ``(low, high)`` pairs.
    use_bias: whether the convolutions have biases.
    dtype: computation dtype (default: inferred).
    param_dtype: parameter dtype.
    carry_init: initializer of the carry in ``initialize_carry``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> x = jnp.ones((2, 5, 5, 3))
    >>> cell = nn.ConvLSTMCell(features=4, kernel_size=(3, 3))
    >>> carry = cell.initialize_carry(jax.random.PRNGKey(0), x.shape)
    >>> carry[0].shape
    (2, 5, 5, 4)
  """

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] | None = None
  padding: str | Sequence[tuple[int, int]] = 'SAME'
  use_bias: bool = True
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()

  @compact
  def __call__(self, carry: tuple[Array, Array], inputs: Array):
    """One step: ``((c, h), x) -> ((c', h'), h')``."""
    c, h = split_pair(self, carry)
    check_step(self, (c, h), inputs, num_feature_axes=_kernel_rank(self) + 1)
    conv = partial(Conv, features=4 * self.features, kernel_size=self.kernel_size,
                   strides=self.strides, padding=self.padding, use_bias=self.use_bias,
                   dtype=self.dtype, param_dtype=self.param_dtype)
    gates = conv(name='ih')(inputs) + conv(name='hh')(h)
    i, g, f, o = jnp.split(gates, indices_or_sections=4, axis=-1)
    f = sigmoid(f + 1)
    new_c = f * c + sigmoid(i) * tanh(g)
    new_h = sigmoid(o) * tanh(new_c)
    return (new_c, new_h), new_h

  @nowrap
  def initialize_carry(self, rng: Any, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Returns ``(c, h)`` shaped ``(*batch, *spatial, features)`` for ``input_shape``."""
    input_shape = tuple(input_shape)
    axes = self.num_feature_axes
    if len(input_shape) < axes:
      raise BadLayerInput(
        f'{module_where(self)}: initialize_carry needs an input shape with {axes - 1} spatial '
        f'axes and a feature axis; got {input_shape}.'
      )
    spatial = input_shape[-axes:-1]
    batch_dims = input_shape[: len(input_shape) - axes]
    key_c, key_h = jax.random.split(rng)
    mem_shape = batch_dims + spatial + (self.features,)
    c = self.carry_init(key_c, mem_shape, self.param_dtype)
    h = self.carry_init(key_h, mem_shape, self.param_dtype)
    return c, h

  @property
  def num_feature_axes(self) -> int:
    return _kernel_rank(self) + 1
