"""Single-array-carry cells: ``GRUCell``, ``MGUCell`` and ``SimpleCell``.

Each takes a carry ``h`` of shape ``(*batch, features)`` and returns
``(h', h')``. Input kernels (``i*``, ``kernel_init``) carry the bias where the
input and recurrent terms are summed; recurrent kernels (``h*``,
``recurrent_kernel_init``, orthogonal) get a bias only where their product is
gated before the sum (``hn``). Sub-modules are created in the reference's
order, which fixes parameter order, RNG keys and msgpack bytes:

* ``GRUCell``: ``ir, hr, iz, hz, in, hn`` —
  ``r = σ(x Wir + h Whr)``, ``z = σ(x Wiz + h Whz)``,
  ``n = tanh(x Win + r * (h Whn + bhn))``, ``h' = (1 - z) n + z h``.
* ``MGUCell`` (minimal gated unit): ``if, hf, hn, in`` —
  ``f = σ(x Wif + h Whf)`` (forget bias initialised to ones),
  ``n = tanh(x Win + f * (h Whn + bhn))`` (without ``f *`` and ``bhn`` when
  ``reset_gate=False``), ``h' = (1 - f) n + f h``.
* ``SimpleCell`` (Elman): ``i, h`` — ``h' = tanh(x Wi + h Wh + b [+ h])``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax.numpy as jnp

from flaxen._src.linen.activation import sigmoid, tanh
from flaxen._src.linen.initializers import default_kernel_init, ones_init, orthogonal, zeros_init
from flaxen._src.linen.linear import Dense
from flaxen._src.linen.module import compact, nowrap
from flaxen._src.linen.recurrent.base import RNNCellBase, carry_parts, vector_mem_shape
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer, PRNGKey


class _VectorCarryCell(RNNCellBase):
  """Shared carry handling of cells whose carry is one ``(*batch, features)`` array."""

  @nowrap
  def initialize_carry(self, rng: PRNGKey, input_shape: tuple[int, ...]) -> Array:
    """Returns ``carry_init(rng, input_shape[:-1] + (features,), param_dtype)``."""
    return carry_parts(self, rng, vector_mem_shape(self, input_shape), 1)

  @property
  def num_feature_axes(self) -> int:
    return 1

  @nowrap
  def projections(self, width: int, **x_extra: Any) -> tuple[Any, Any]:
    """``(from_x, from_h)``: Dense factories for the input and recurrent terms.

    Input projections use ``kernel_init`` and carry a bias; recurrent ones use
    ``recurrent_kernel_init`` and have none unless asked per call.
    """
    cell: Any = self  # the concrete cells declare the fields read here
    common = dict(features=width, dtype=cell.dtype, param_dtype=cell.param_dtype)
    from_x = partial(Dense, use_bias=True, kernel_init=cell.kernel_init, **common, **x_extra)
    from_h = partial(Dense, use_bias=False, kernel_init=cell.recurrent_kernel_init, **common)
    return from_x, from_h


@set_module('flaxen.linen')
class GRUCell(_VectorCarryCell):
  """Gated recurrent unit cell (equations in the module docstring).

  Attributes:
    features: number of output (hidden) features.
    gate_fn: gate activation (default ``sigmoid``).
    activation_fn: candidate activation (default ``tanh``).
    kernel_init: initializer of the input kernels.
    recurrent_kernel_init: initializer of the hidden kernels (default orthogonal).
    bias_init: initializer of the biases.
    dtype: computation dtype (default: inferred).
    param_dtype: parameter dtype.
    carry_init: initializer of the carry in ``initialize_carry``.
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
  def __call__(self, carry: Array, inputs: Array):
    """One GRU step: ``(h, x) -> (h', h')``."""
    h = carry
    from_x, from_h = self.projections(h.shape[-1], bias_init=self.bias_init)
    from_h = partial(from_h, bias_init=self.bias_init)
    reset = self.gate_fn(from_x(name='ir')(inputs) + from_h(name='hr')(h))
    update = self.gate_fn(from_x(name='iz')(inputs) + from_h(name='hz')(h))
    candidate = self.activation_fn(
      from_x(name='in')(inputs) + reset * from_h(name='hn', use_bias=True)(h))
    new_h = (1.0 - update) * candidate + update * h
    return new_h, new_h


@set_module('flaxen.linen')
class MGUCell(_VectorCarryCell):
  """Minimal gated unit cell (equations in the module docstring).

  Attributes:
    features: number of output (hidden) features.
    gate_fn: forget-gate activation (default ``sigmoid``).
    activation_fn: candidate activation (default ``tanh``).
    kernel_init: initializer of the input kernels.
    recurrent_kernel_init: initializer of the hidden kernels (default orthogonal).
    forget_bias_init: initializer of the forget-gate bias (default ones).
    activation_bias_init: initializer of the candidate biases (default zeros).
    dtype: computation dtype (default: inferred).
    param_dtype: parameter dtype.
    carry_init: initializer of the carry in ``initialize_carry``.
    reset_gate: gate the recurrent candidate term with the forget gate.
  """

  features: int
  gate_fn: Callable[..., Any] = sigmoid
  activation_fn: Callable[..., Any] = tanh
  kernel_init: Initializer = default_kernel_init
  recurrent_kernel_init: Initializer = orthogonal()
  forget_bias_init: Initializer = ones_init()
  activation_bias_init: Initializer = zeros_init()
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()
  reset_gate: bool = True

  @compact
  def __call__(self, carry: Array, inputs: Array):
    """One MGU step: ``(h, x) -> (h', h')``."""
    h = carry
    from_x, from_h = self.projections(h.shape[-1])
    forget = self.gate_fn(from_x(name='if', bias_init=self.forget_bias_init)(inputs)
                          + from_h(name='hf')(h))
    recurrent = from_h(name='hn', use_bias=self.reset_gate,
                       bias_init=self.activation_bias_init)(h)
    if self.reset_gate:
      recurrent = recurrent * forget
    candidate = self.activation_fn(
      from_x(name='in', bias_init=self.activation_bias_init)(inputs) + recurrent)
    new_h = (1.0 - forget) * candidate + forget * h
    return new_h, new_h


@set_module('flaxen.linen')
class SimpleCell(_VectorCarryCell):
  """Elman cell ``h' = activation_fn(x Wi + b + h Wh [+ h])``.

  Attributes:
    features: number of output (hidden) features.
    activation_fn: activation (default ``tanh``).
    kernel_init: initializer of the input kernel.
    recurrent_kernel_init: initializer of the hidden kernel (default orthogonal).
    bias_init: initializer of the bias.
    dtype: computation dtype (default: inferred).
    param_dtype: parameter dtype.
    carry_init: initializer of the carry in ``initialize_carry``.
    residual: add the previous carry before the activation.
  """

  features: int
  activation_fn: Callable[..., Any] = tanh
  kernel_init: Initializer = default_kernel_init
  recurrent_kernel_init: Initializer = orthogonal()
  bias_init: Initializer = zeros_init()
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  carry_init: Initializer = zeros_init()
  residual: bool = False

  @compact
  def __call__(self, carry: Array, inputs: Array):
    """One step: ``(h, x) -> (h', h')``."""
    from_x, from_h = self.projections(carry.shape[-1], bias_init=self.bias_init)
    total = from_x(name='i')(inputs) + from_h(name='h')(carry)
    if self.residual:
      total = total + carry
    new_carry = self.activation_fn(total)
    return new_carry, new_carry
