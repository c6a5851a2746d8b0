"""Long short-term memory cells: ``LSTMCell`` and ``OptimizedLSTMCell``.

Both compute, for carry ``(c, h)`` and input ``x``::

  i = gate_fn(x Wii + h Whi + bi)        f = gate_fn(x Wif + h Whf + bf)
  g = activation_fn(x Wig + h Whg + bg)  o = gate_fn(x Wio + h Who + bo)
  c' = f * c + i * g                     h' = o * activation_fn(c')

and return ``((c', h'), h')``. The hidden size is the carry's (``h.shape[-1]``).
Parameters are per-gate sub-modules created gate by gate, input projection
first: ``ii, hi, if, hf, ig, hg, io, ho``. Input projections ``i*`` have no
bias; recurrent ones ``h*`` (``recurrent_kernel_init``, orthogonal) carry it.

``OptimizedLSTMCell`` creates the very same parameters (so the two share a
checkpoint) through ``DenseParams`` and applies them as two fused matmuls:
the four recurrent kernels concatenated (with their biases), then the four
input kernels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import jax.numpy as jnp
import numpy as np

from flaxen._src.linen.activation import sigmoid, tanh
from flaxen._src.linen.dtypes import promote_dtype
from flaxen._src.linen.initializers import default_kernel_init, orthogonal, zeros_init
from flaxen._src.linen.linear import Dense
from flaxen._src.linen.module import Module, compact, nowrap
from flaxen._src.linen.recurrent.base import RNNCellBase, carry_parts, vector_mem_shape
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer, PrecisionLike, PRNGKey

# Gate name -> which of the cell's functions squashes its pre-activation.
GATES = (('i', 'gate_fn'), ('f', 'gate_fn'), ('g', 'activation_fn'), ('o', 'gate_fn'))


def lstm_update(cell: Any, c: Array, pre: Mapping[str, Array]) -> tuple[tuple[Array, Array], Array]:
  """Applies the gate functions to the pre-activations ``pre`` and advances ``(c, h)``."""
  act = {name: getattr(cell, fn)(pre[name]) for name, fn in GATES}
  new_c = act['f'] * c + act['i'] * act['g']
  new_h = act['o'] * cell.activation_fn(new_c)
  return (new_c, new_h), new_h


class _LSTMFields(RNNCellBase):
  """Fields, carry and feature axes shared by both LSTM cells."""

  features: int
  gate_fn: Callable[..., Any] = sigmoid
  activation_fn: Callable[..., Any] = tanh
  kernel_init: Initializer = default_kernel_init
  recurrent_kernel_init: Initializer = orthogonal()
  bias_init: Initializer = zeros_init()
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()

  @nowrap
  def initialize_carry(self, rng: PRNGKey, input_shape: tuple[int, ...]) -> tuple[Array, Array]:
    """Returns ``(c, h)``, each ``input_shape[:-1] + (features,)``, from one split key each."""
    return carry_parts(self, rng, vector_mem_shape(self, input_shape), 2)

  @property
  def num_feature_axes(self) -> int:
    return 1


@set_module('flaxen.linen')
class LSTMCell(_LSTMFields):
  """LSTM cell (see the module docstring for the equations).

  Attributes:
    features: number of output (hidden) features of the carry ``initialize_carry`` builds.
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

  @compact
  def __call__(self, carry: tuple[Array, Array], inputs: Array):
    """One LSTM step: ``((c, h), x) -> ((c', h'), h')``."""
    c, h = carry
    width = h.shape[-1]
    common: dict[str, Any] = dict(features=width, dtype=self.dtype, param_dtype=self.param_dtype)
    from_x = partial(Dense, use_bias=False, kernel_init=self.kernel_init, **common)
    from_h = partial(Dense, use_bias=True, kernel_init=self.recurrent_kernel_init,
                     bias_init=self.bias_init, **common)
    pre = {}
    for name, _ in GATES:
      pre[name] = from_x(name=f'i{name}')(inputs) + from_h(name=f'h{name}')(h)
    return lstm_update(self, c, pre)


@set_module('flaxen.linen.recurrent')
class DenseParams(Module):
  """Creates (and returns) a Dense layer's ``kernel``/``bias`` without applying them.

  ``OptimizedLSTMCell`` builds its per-gate parameters with it so they sit
  where ``LSTMCell``'s ``Dense`` layers put theirs.

  Attributes:
    features: number of output features.
    use_bias: whether to create a bias.
    param_dtype: dtype of the params.
    precision: kept for signature compatibility (unused).
    kernel_init: initializer of ``kernel`` (shape ``(in, features)``).
    bias_init: initializer of ``bias``.
  """

  features: int
  use_bias: bool = True
  param_dtype: Dtype = jnp.float32
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  bias_init: Initializer = zeros_init()

  @compact
  def __call__(self, inputs: Array) -> tuple[Array, Array | None]:
    """Returns ``(kernel, bias)`` for inputs with ``inputs.shape[-1]`` features."""
    kernel = self.param('kernel', self.kernel_init, (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = None
    if self.use_bias:
      bias = self.param('bias', self.bias_init, (self.features,), self.param_dtype)
    return kernel, bias


def fused_projection(x: Array, params: Mapping[str, tuple[Array, Array | None]],
                     with_bias: bool, dtype: Dtype | None) -> dict[str, Array]:
  """Applies every gate's kernel (and bias) to ``x`` with one matmul; per-gate results."""
  kernels = [kernel for kernel, _ in params.values()]
  # (with_bias: every gate has a bias, none is None)
  stacked_bias = jnp.concatenate([b for _, b in params.values()], -1) if with_bias else None  # type: ignore[misc]
  x, stacked, stacked_bias = promote_dtype(x, jnp.concatenate(kernels, -1), stacked_bias,
                                           dtype=dtype)
  y = jnp.dot(x, stacked)
  if stacked_bias is not None:
    y += jnp.reshape(stacked_bias, (1,) * (y.ndim - 1) + (-1,))
  boundaries = np.cumsum([k.shape[-1] for k in kernels[:-1]])
  return dict(zip(params, jnp.split(y, boundaries, axis=-1)))


@set_module('flaxen.linen')
class OptimizedLSTMCell(_LSTMFields):
  """LSTM cell with the parameters of ``LSTMCell``, computed with fused matmuls.

  Same attributes, parameters, carry and results as ``LSTMCell``; faster for
  small and medium hidden sizes because the four gate kernels are concatenated
  and applied at once.
  """

  @compact
  def __call__(self, carry: tuple[Array, Array], inputs: Array):
    """One LSTM step: ``((c, h), x) -> ((c', h'), h')``."""
    c, h = carry
    width = h.shape[-1]
    for_x: dict[str, tuple[Array, Array | None]] = {}
    for_h: dict[str, tuple[Array, Array | None]] = {}
    for name, _ in GATES:
      for_x[name] = DenseParams(width, use_bias=False, param_dtype=self.param_dtype,
                                kernel_init=self.kernel_init, bias_init=self.bias_init,
                                name=f'i{name}')(inputs)
      for_h[name] = DenseParams(width, use_bias=True, param_dtype=self.param_dtype,
                                kernel_init=self.recurrent_kernel_init,
                                bias_init=self.bias_init, name=f'h{name}')(h)
    hidden = fused_projection(h, for_h, True, self.dtype)
    projected = fused_projection(inputs, for_x, False, self.dtype)
    return lstm_update(self, c, {name: hidden[name] + projected[name] for name, _ in GATES})
