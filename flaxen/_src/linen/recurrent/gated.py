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
from flaxen._src.linen.recurrent.base import RNNCellBase
from flaxen._src.linen.recurrent.checks import check_step
from flaxen._src.public import set_module

Array = Any
Dtype = Any
Initializer = Any


class _VectorCarryCell(RNNCellBase):
  """Shared carry handling of cells whose carry is one ``(*batch, features)`` array."""

  @nowrap
  def initialize_carry(self, rng: Any, input_shape: tuple[int, ...]) -> Array:
    """Returns ``carry_init(rng, input_shape[:-1] + (features,), param_dtype)``."""
    mem_shape = tuple(input_shape[:-1]) + (self.features,)  # type: ignore[attr-defined]
    return self.carry_init(rng, mem_shape, self.param_dtype)  # type: ignore[attr-defined]

  @property
  def num_feature_axes(self) -> int:
    return 1


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
    check_step(self, (h,), inputs)
    hidden_features = h.shape[-1]
    dense_h = partial(Dense, features=hidden_features, use_bias=False, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.recurrent_kernel_init,
                      bias_init=self.bias_init)
    dense_i = partial(Dense, features=hidden_features, use_bias=True, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.kernel_init,
                      bias_init=self.bias_init)
    r = self.gate_fn(dense_i(name='ir')(inputs) + dense_h(name='hr')(h))
    z = self.gate_fn(dense_i(name='iz')(inputs) + dense_h(name='hz')(h))
    n = self.activation_fn(
      dense_i(name='in')(inputs) + r * dense_h(name='hn', use_bias=True)(h)
    )
    new_h = (1.0 - z) * n + z * h
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
    check_step(self, (h,), inputs)
    hidden_features = h.shape[-1]
    dense_h = partial(Dense, features=hidden_features, use_bias=False, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.recurrent_kernel_init)
    dense_i = partial(Dense, features=hidden_features, use_bias=True, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.kernel_init)
    f = self.gate_fn(
      dense_i(name='if', bias_init=self.forget_bias_init)(inputs) + dense_h(name='hf')(h)
    )
    recurrent = dense_h(name='hn', use_bias=self.reset_gate,
                        bias_init=self.activation_bias_init)(h)
    if self.reset_gate:
      recurrent = f * recurrent
    n = self.activation_fn(
      dense_i(name='in', bias_init=self.activation_bias_init)(inputs) + recurrent
    )
    new_h = (1.0 - f) * n + f * h
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
    check_step(self, (carry,), inputs)
    hidden_features = carry.shape[-1]
    dense_h = partial(Dense, features=hidden_features, use_bias=False, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.recurrent_kernel_init)
    dense_i = partial(Dense, features=hidden_features, use_bias=True, dtype=self.dtype,
                      param_dtype=self.param_dtype, kernel_init=self.kernel_init,
                      bias_init=self.bias_init)
    new_carry = dense_i(name='i')(inputs) + dense_h(name='h')(carry)
    if self.residual:
      new_carry = new_carry + carry
    new_carry = self.activation_fn(new_carry)
    return new_carry, new_carry
