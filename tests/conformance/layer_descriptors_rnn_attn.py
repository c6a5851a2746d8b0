"""Conformance descriptors of the attention and recurrent layers (format: layer_descriptors.py).

The matrix passes every input through ``jnp.asarray``, so a cell's ``(c, h)``
carry is given stacked as one ``(2, ...)`` array and unpacked by a thin
subclass of the cell (same class name suffix, same variables). ``SelfAttention``
is wrapped the same way to silence its reference-mandated DeprecationWarning.
``RNNCellBase`` is exercised through a minimal user cell run by ``nn.RNN``.

Orthogonal initialisation (the cells' default recurrent init) needs a QR
decomposition, which JAX has no bfloat16 kernel for; the bfloat16 cells use
``lecun_normal`` recurrent kernels instead.

(No ``from __future__ import annotations`` here: the matrix loads this file
without registering it in ``sys.modules``, and dataclass fields with string
annotations would need that.)
"""

import warnings

import jax.numpy as jnp
from layer_descriptors import Layer, dt, normal

from flaxen import linen as nn


def _pair_carry(cls):
  """A subclass of a ``(c, h)``-carry cell that takes the carry stacked as one array."""

  class StackedCarry(cls):
    @nn.compact
    def __call__(self, carry, inputs):
      return super().__call__((carry[0], carry[1]), inputs)

  StackedCarry.__name__ = f'Stacked{cls.__name__}'
  return StackedCarry


class _QuietSelfAttention(nn.SelfAttention):
  @nn.compact
  def __call__(self, inputs_q):
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', DeprecationWarning)
      return super().__call__(inputs_q)


class _RunningSum(nn.RNNCellBase):
  """Minimal user cell: ``h' = h + scale * x`` (the RNNCellBase contract)."""

  features: int
  param_dtype: object = jnp.float32

  @nn.compact
  def __call__(self, carry, inputs):
    scale = self.param('scale', nn.initializers.ones, (self.features,), self.param_dtype)
    new = carry + scale[None] * inputs
    return new, new

  @nn.nowrap
  def initialize_carry(self, rng, input_shape):
    return jnp.zeros(tuple(input_shape[:-1]) + (self.features,), self.param_dtype)

  @property
  def num_feature_axes(self):
    return 1


def cell_kw(d) -> dict:
  kw = dt(d)
  if d == jnp.bfloat16:
    kw['recurrent_kernel_init'] = nn.initializers.lecun_normal()
  return kw


def _stacked(*shape, seed=0):
  return normal(2, *shape, seed=seed)


LAYERS: list[Layer] = [
  Layer('MultiHeadDotProductAttention',
        lambda d: (nn.MultiHeadDotProductAttention, (2,), dict(qkv_features=4, **dt(d))),
        lambda d: (normal(2, 3, 4)(d),)),
  Layer('MultiHeadAttention',
        lambda d: (nn.MultiHeadAttention, (2,),
                   dict(out_features=3, normalize_qk=True, **dt(d))),
        lambda d: (normal(2, 3, 4)(d), normal(2, 5, 2, seed=1)(d))),
  Layer('SelfAttention', lambda d: (_QuietSelfAttention, (2,), dt(d)),
        lambda d: (normal(2, 3, 4)(d),)),
  Layer('LSTMCell', lambda d: (_pair_carry(nn.LSTMCell), (3,), cell_kw(d)),
        lambda d: (_stacked(2, 3)(d), normal(2, 4, seed=1)(d))),
  Layer('OptimizedLSTMCell', lambda d: (_pair_carry(nn.OptimizedLSTMCell), (3,), cell_kw(d)),
        lambda d: (_stacked(2, 3)(d), normal(2, 4, seed=1)(d))),
  Layer('GRUCell', lambda d: (nn.GRUCell, (3,), cell_kw(d)),
        lambda d: (normal(2, 3)(d), normal(2, 4, seed=1)(d))),
  Layer('MGUCell', lambda d: (nn.MGUCell, (3,), cell_kw(d)),
        lambda d: (normal(2, 3)(d), normal(2, 4, seed=1)(d))),
  Layer('SimpleCell', lambda d: (nn.SimpleCell, (3,), dict(residual=True, **cell_kw(d))),
        lambda d: (normal(2, 3)(d), normal(2, 3, seed=1)(d))),
  Layer('ConvLSTMCell', lambda d: (_pair_carry(nn.ConvLSTMCell), (2, (3,)), dt(d)),
        lambda d: (_stacked(2, 5, 2)(d), normal(2, 5, 3, seed=1)(d))),
  Layer('RNN', lambda d: (nn.RNN, (nn.GRUCell(3, **cell_kw(d)),), {}),
        lambda d: (normal(2, 4, 2)(d),)),
  Layer('Bidirectional',
        lambda d: (nn.Bidirectional, (nn.RNN(nn.SimpleCell(2, **cell_kw(d))),
                                      nn.RNN(nn.SimpleCell(2, **cell_kw(d)))), {}),
        lambda d: (normal(2, 4, 3)(d),)),
  Layer('RNNCellBase', lambda d: (nn.RNN, (_RunningSum(3, param_dtype=d),), {}),
        lambda d: (normal(2, 4, 3)(d),)),
]

DESCRIPTORS: dict[str, Layer] = {layer.name: layer for layer in LAYERS}
