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

import jax.numpy as jnp

from flaxen._src.linen.activation import sigmoid, tanh
from flaxen._src.linen.initializers import zeros_init
from flaxen._src.linen.linear import Conv
from flaxen._src.linen.module import compact, nowrap
from flaxen._src.linen.recurrent.base import RNNCellBase, carry_parts
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer, PRNGKey


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
    c, h = carry
    conv = partial(Conv, features=4 * self.features, kernel_size=self.kernel_size,
                   strides=self.strides, padding=self.padding, use_bias=self.use_bias,
                   dtype=self.dtype, param_dtype=self.param_dtype)
    stacked = conv(name='ih')(inputs) + conv(name='hh')(h)
    i, g, f, o = jnp.split(stacked, indices_or_sections=4, axis=-1)
    forget = sigmoid(f + 1)  # the forget gate starts biased towards keeping
    new_c = forget * c + sigmoid(i) * tanh(g)
    new_h = sigmoid(o) * tanh(new_c)
    return (new_c, new_h), new_h

  @nowrap
  def initialize_carry(self, rng: PRNGKey, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Returns ``(c, h)`` shaped ``(*batch, *spatial, features)`` for ``input_shape``.

    The last ``num_feature_axes`` axes of ``input_shape`` are the spatial axes
    and the input features; the features are replaced by ``features``.
    """
    n = self.num_feature_axes
    shape = tuple(input_shape)
    mem_shape = shape[:-n] + shape[-n:-1] + (self.features,)
    return carry_parts(self, rng, mem_shape, 2)

  @property
  def num_feature_axes(self) -> int:
    """The spatial axes (one per ``kernel_size`` entry) plus the feature axis."""
    return len(self.kernel_size) + 1
