"""Long short-term memory cells: ``LSTMCell`` and ``OptimizedLSTMCell``.

Both compute, for carry ``(c, h)`` and input ``x``::

  i = gate_fn(x Wii + h Whi + bi)        f = gate_fn(x Wif + h Whf + bf)
  g = activation_fn(x Wig + h Whg + bg)  o = gate_fn(x Wio + h Who + bo)
  c' = f * c + i * g                     h' = o * activation_fn(c')

and return ``((c', h'), h')``. Parameters are per-gate sub-modules created in
the order ``ii, hi, if, hf, ig, hg, io, ho``: input kernels ``i*`` have no bias,
recurrent kernels ``h*`` (``recurrent_kernel_init``, orthogonal) carry the bias.
``OptimizedLSTMCell`` creates the very same parameters (so the two are
interchangeable on one checkpoint) but concatenates the four kernels and runs
two matmuls instead of eight.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.linen.activation import sigmoid, tanh
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.linen.initializers import default_kernel_init, orthogonal, zeros_init
from flaxen._src.linen.linear import Dense
from flaxen._src.linen.module import Module, compact, nowrap
from flaxen._src.linen.recurrent.base import RNNCellBase
from flaxen._src.linen.recurrent.checks import check_step, split_pair
from flaxen._src.public import set_module

Array = Any
Dtype = Any
Initializer = Any
_GATES = ('i', 'f', 'g', 'o')


def _lstm_carry(cell: Any, rng: Any, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
  batch_dims = tuple(input_shape[:-1])
  key_c, key_h = jax.random.split(rng)
  mem_shape = batch_dims + (cell.features,)
  c = cell.carry_init(key_c, mem_shape, cell.param_dtype)
  h = cell.carry_init(key_h, mem_shape, cell.param_dtype)
  return c, h


@set_module('flaxen.linen')
class LSTMCell(RNNCellBase):
  """LSTM cell (see the module docstring for the equations).

  Attributes:
    features: number of output (hidden) features.
    gate_fn: gate activation (default ``sigmoid``).
    activation_fn: candidate/output activation (default ``tanh``).
    kernel_init: initializer of the input kernels.
    recurrent_kernel_init: initializer of the hidden kernels (default orthogonal).
    bias_init: initializer of the biases.
    dtype: computation dtype (default: inferred).
    param_dtype: parameter dtype.
    carry_init: initializer of the carry in ``initialize_carry``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> x = jnp.ones((2, 3))
    >>> cell = nn.LSTMCell(features=4)
    >>> carry = cell.initialize_carry(jax.random.PRNGKey(0), x.shape)
    >>> variables = cell.init(jax.random.PRNGKey(1), carry, x)
    >>> (c, h), y = cell.apply(variables, carry, x)
    >>> y.shape
    (2, 4)
  """

  features: int
  gate_fn: Callable[..., Any] = sigmoid
  activation_fn: Callable[..., Any] = tanh
  kernel_init: Initializer = default_kernel_init
  recurrent_kernel_init: Initializer = orthogonal()
  bias_init: Initializer = zeros_init()
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()

  @compact
  def __call__(self, carry: tuple[Array, Array], inputs: Array):
    """One LSTM step: ``((c, h), x) -> ((c', h'), h')``."""
    c, h = split_pair(self, carry)
    check_step(self, (c, h), inputs)
    hidden_features = h.shape[-1]
    dense_h = partial(Dense, features=hidden_features, use_bias=True,
                      kernel_init=self.recurrent_kernel_init, bias_init=self.bias_init,
                      dtype=self.dtype, param_dtype=self.param_dtype)
    dense_i = partial(Dense, features=hidden_features, use_bias=False,
                      kernel_init=self.kernel_init, dtype=self.dtype,
                      param_dtype=self.param_dtype)
    i = self.gate_fn(dense_i(name='ii')(inputs) + dense_h(name='hi')(h))
    f = self.gate_fn(dense_i(name='if')(inputs) + dense_h(name='hf')(h))
    g = self.activation_fn(dense_i(name='ig')(inputs) + dense_h(name='hg')(h))
    o = self.gate_fn(dense_i(name='io')(inputs) + dense_h(name='ho')(h))
    new_c = f * c + i * g
    new_h = o * self.activation_fn(new_c)
    return (new_c, new_h), new_h

  @nowrap
  def initialize_carry(self, rng: Any, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Returns ``(c, h)``, each ``input_shape[:-1] + (features,)`` from ``carry_init``."""
    return _lstm_carry(self, rng, input_shape)

  @property
  def num_feature_axes(self) -> int:
    return 1


class DenseParams(Module):
  """Creates (and returns) a Dense layer's ``kernel``/``bias`` without applying them.

  Internal to ``OptimizedLSTMCell`` (not exported); named like the reference's
  helper so summaries (``tabulate``) show the same module class.
  """

  features: int
  use_bias: bool = True
  param_dtype: Dtype = jnp.float32
  precision: Any = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = zeros_init()

  @compact
  def __call__(self, inputs: Array) -> tuple[Array, Array | None]:
    kernel = self.param('kernel', self.kernel_init, (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = None
    if self.use_bias:
      bias = self.param('bias', self.bias_init, (self.features,), self.param_dtype)
    return kernel, bias


def _fused_dense(x: Array, params: dict[str, tuple[Array, Array | None]], use_bias: bool,
                 dtype: Dtype | None) -> dict[str, Array]:
  """Applies the concatenated per-gate kernels to ``x``; returns the per-gate results."""
  kernels = [k for k, _ in params.values()]
  kernel = jnp.concatenate(kernels, axis=-1)
  bias = jnp.concatenate([b for _, b in params.values()], axis=-1) if use_bias else None
  x, kernel, bias = promote_dtype(x, kernel, bias, dtype=dtype)
  y = jnp.dot(x, kernel)
  if use_bias:
    y = y + jnp.reshape(bias, (1,) * (y.ndim - 1) + (-1,))
  split_at = np.cumsum([k.shape[-1] for k in kernels[:-1]])
  return dict(zip(params.keys(), jnp.split(y, split_at, axis=-1)))


@set_module('flaxen.linen')
class OptimizedLSTMCell(RNNCellBase):
  """LSTM cell with the parameters of ``LSTMCell``, computed with fused matmuls.

  Same attributes, parameters, carry and results as ``LSTMCell``; faster for
  small and medium hidden sizes because the four gate kernels are concatenated
  and applied at once.
  """

  features: int
  gate_fn: Callable[..., Any] = sigmoid
  activation_fn: Callable[..., Any] = tanh
  kernel_init: Initializer = default_kernel_init
  recurrent_kernel_init: Initializer = orthogonal()
  bias_init: Initializer = zeros_init()
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()

  @compact
  def __call__(self, carry: tuple[Array, Array], inputs: Array):
    """One LSTM step: ``((c, h), x) -> ((c', h'), h')``."""
    c, h = split_pair(self, carry)
    check_step(self, (c, h), inputs)
    hidden_features = h.shape[-1]
    params_i: dict[str, tuple[Array, Array | None]] = {}
    params_h: dict[str, tuple[Array, Array | None]] = {}
    for gate in _GATES:
      params_i[gate] = DenseParams(
        features=hidden_features, use_bias=False, param_dtype=self.param_dtype,
        kernel_init=self.kernel_init, bias_init=self.bias_init, name=f'i{gate}',
      )(inputs)
      params_h[gate] = DenseParams(
        features=hidden_features, use_bias=True, param_dtype=self.param_dtype,
        kernel_init=self.recurrent_kernel_init, bias_init=self.bias_init, name=f'h{gate}',
      )(h)
    from_h = _fused_dense(h, params_h, True, self.dtype)
    from_i = _fused_dense(inputs, params_i, False, self.dtype)
    i = self.gate_fn(from_h['i'] + from_i['i'])
    f = self.gate_fn(from_h['f'] + from_i['f'])
    g = self.activation_fn(from_h['g'] + from_i['g'])
    o = self.gate_fn(from_h['o'] + from_i['o'])
    new_c = f * c + i * g
    new_h = o * self.activation_fn(new_c)
    return (new_c, new_h), new_h

  @nowrap
  def initialize_carry(self, rng: Any, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Returns ``(c, h)``, each ``input_shape[:-1] + (features,)`` from ``carry_init``."""
    return _lstm_carry(self, rng, input_shape)

  @property
  def num_feature_axes(self) -> int:
    return 1
