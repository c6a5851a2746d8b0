"""One descriptor per public layer (linear, conv, embed, normalization, dropout, combinators, fp8).

A descriptor says how to build a small instance of the layer for a given float
dtype, which inputs to feed it, and how to call ``init`` / ``apply``. The
conformance matrix (``test_layer_matrix.py``) runs every descriptor under
eager, ``jax.jit``, ``jax.vmap`` and ``nn.remat`` in float32/bfloat16/float64.
Attention and recurrent layers have their descriptors in
``layer_descriptors_rnn_attn.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn


@dataclasses.dataclass(frozen=True)
class Layer:
  """How to exercise one public layer.

  Attributes:
    name: the public class name in ``flaxen.linen`` (checked for coverage).
    build: ``dtype -> (cls, args, kwargs)`` for a small instance computing in ``dtype``.
    inputs: ``dtype -> tuple of call arguments`` (one example, with a batch axis).
    init_kwargs: extra keyword arguments for ``init``.
    apply_kwargs: extra keyword arguments for ``apply``.
    apply_rngs: rng streams needed by ``apply`` (keys are derived by the matrix).
    mutable: collections made mutable in ``apply`` (the updates are compared too).
    param_dtype: whether ``param_dtype`` follows the tested dtype.
    out_dtype: whether the output dtype equals the tested dtype.
  """

  name: str
  build: Callable[[Any], tuple[type, tuple, dict]]
  inputs: Callable[[Any], tuple]
  init_kwargs: dict = dataclasses.field(default_factory=dict)
  apply_kwargs: dict = dataclasses.field(default_factory=dict)
  apply_rngs: tuple[str, ...] = ()
  mutable: tuple[str, ...] = ()
  param_dtype: bool = True
  out_dtype: bool = True


def normal(*shape: int, seed: int = 0) -> Callable[[Any], np.ndarray]:
  def make(dtype):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
  return make


def dt(dtype) -> dict:
  return {'dtype': dtype, 'param_dtype': dtype}


class _Fp8EinsumDense(nn.Module):
  """A dense layer whose contraction is an ``nn.Fp8Einsum``."""

  features: int
  dtype: Any = jnp.float32
  param_dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    w = self.param('kernel', nn.initializers.lecun_normal(), (x.shape[-1], self.features),
                   self.param_dtype)
    return nn.Fp8Einsum()('bi,io->bo', x.astype(self.dtype), w.astype(self.dtype))


class _QuietFp8DotGeneralOp(nn.Fp8DotGeneralOp):
  """``Fp8DotGeneralOp`` itself (only the exact class raises its DeprecationWarning)."""


LAYERS: list[Layer] = [
  Layer('Dense', lambda d: (nn.Dense, (3,), dt(d)), lambda d: (normal(2, 4)(d),)),
  Layer('DenseGeneral', lambda d: (nn.DenseGeneral, ((2, 3),), dict(axis=(-2, -1), **dt(d))),
        lambda d: (normal(2, 3, 4)(d),)),
  Layer('Einsum', lambda d: (nn.Einsum, ((4, 3), 'bi,ij->bj'), dt(d)),
        lambda d: (normal(2, 4)(d),)),
  Layer('Conv', lambda d: (nn.Conv, (3, (3, 3)), dict(strides=2, padding='CIRCULAR', **dt(d))),
        lambda d: (normal(2, 6, 6, 2)(d),)),
  Layer('ConvLocal', lambda d: (nn.ConvLocal, (2, (2, 2)), dict(padding='VALID', **dt(d))),
        lambda d: (normal(2, 4, 4, 2)(d),)),
  Layer('ConvTranspose', lambda d: (nn.ConvTranspose, (2, (3,)), dict(strides=(2,), **dt(d))),
        lambda d: (normal(2, 5, 3)(d),)),
  Layer('Embed', lambda d: (nn.Embed, (7, 3), dt(d)),
        lambda d: (np.array([[1, 5, 0], [6, 2, 2]], np.int32),)),
  Layer('BatchNorm', lambda d: (nn.BatchNorm, (), dict(momentum=0.9, **dt(d))),
        lambda d: (normal(4, 3)(d),), init_kwargs={'use_running_average': False},
        apply_kwargs={'use_running_average': False}, mutable=('batch_stats',)),
  Layer('LayerNorm', lambda d: (nn.LayerNorm, (), dt(d)), lambda d: (normal(2, 5)(d),)),
  Layer('RMSNorm', lambda d: (nn.RMSNorm, (), dt(d)), lambda d: (normal(2, 5)(d),)),
  Layer('GroupNorm', lambda d: (nn.GroupNorm, (), dict(num_groups=2, **dt(d))),
        lambda d: (normal(2, 3, 4)(d),)),
  Layer('InstanceNorm', lambda d: (nn.InstanceNorm, (), dt(d)),
        lambda d: (normal(2, 3, 3, 2)(d),)),
  Layer('SpectralNorm', lambda d: (nn.SpectralNorm, (nn.Dense(3, **dt(d)),), dt(d)),
        lambda d: (normal(2, 4)(d),), init_kwargs={'update_stats': True},
        apply_kwargs={'update_stats': True}, mutable=('batch_stats',)),
  Layer('WeightNorm', lambda d: (nn.WeightNorm, (nn.Dense(3, **dt(d)),), dt(d)),
        lambda d: (normal(2, 4)(d),)),
  Layer('Dropout', lambda d: (nn.Dropout, (0.5,), {}), lambda d: (normal(3, 4)(d),),
        init_kwargs={'deterministic': True}, apply_kwargs={'deterministic': False},
        apply_rngs=('dropout',), param_dtype=False),
  Layer('Sequential', lambda d: (nn.Sequential, ([nn.Dense(4, **dt(d)), nn.relu,
                                                  nn.LayerNorm(**dt(d))],), {}),
        lambda d: (normal(2, 3)(d),)),
  Layer('PReLU', lambda d: (nn.PReLU, (), {'param_dtype': d}), lambda d: (normal(2, 5)(d),)),
  # FP8 ops replace a layer's dot_general / einsum: exercised inside the layer they serve
  *(Layer(name, lambda d, name=name: (nn.Dense, (3,), dict(dot_general_cls=getattr(nn, name),
                                                           **dt(d))),
          lambda d: (normal(2, 4)(d),))
    for name in ('Fp8DotGeneral', 'Fp8DirectDotGeneralOp', 'NANOOFp8DotGeneralOp')),
  Layer('Fp8DotGeneralOp', lambda d: (nn.Dense, (3,), dict(dot_general_cls=_QuietFp8DotGeneralOp,
                                                            **dt(d))),
        lambda d: (normal(2, 4)(d),)),
  Layer('Fp8Einsum', lambda d: (_Fp8EinsumDense, (3,), dt(d)), lambda d: (normal(2, 4)(d),)),
]

DESCRIPTORS: dict[str, Layer] = {layer.name: layer for layer in LAYERS}

FLOAT_DTYPES = {'float32': jnp.float32, 'bfloat16': jnp.bfloat16, 'float64': jnp.float64}
