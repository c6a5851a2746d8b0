"""Activation functions (``nn.relu``, ``nn.gelu``, ...) and the ``PReLU`` layer.

The functions are JAX's own (``jax.nn`` and ``jnp.tanh``), re-exported so that
``nn.<name>`` computes exactly what the reference computes, bit for bit, with
the same custom derivatives (``relu``'s gradient at 0 is 0). ``normalize`` is
kept as the old name of ``standardize``.

``PReLU`` is the only Module here: one learnable scalar ``negative_slope``
(param dtype ``param_dtype``, initial value ``negative_slope_init``), applied
as ``x if x >= 0 else slope * x`` in the input's dtype.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.nn import celu as celu
from jax.nn import elu as elu
from jax.nn import gelu as gelu
from jax.nn import glu as glu
from jax.nn import hard_sigmoid as hard_sigmoid
from jax.nn import hard_silu as hard_silu
from jax.nn import hard_swish as hard_swish
from jax.nn import hard_tanh as hard_tanh
from jax.nn import identity as identity
from jax.nn import leaky_relu as leaky_relu
from jax.nn import log_sigmoid as log_sigmoid
from jax.nn import log_softmax as log_softmax
from jax.nn import logsumexp as logsumexp
from jax.nn import mish as mish
from jax.nn import one_hot as one_hot
from jax.nn import relu as relu
from jax.nn import relu6 as relu6
from jax.nn import selu as selu
from jax.nn import sigmoid as sigmoid
from jax.nn import silu as silu
from jax.nn import soft_sign as soft_sign
from jax.nn import softmax as softmax
from jax.nn import softplus as softplus
from jax.nn import sparse_plus as sparse_plus
from jax.nn import sparse_sigmoid as sparse_sigmoid
from jax.nn import squareplus as squareplus
from jax.nn import standardize as standardize
from jax.nn import swish as swish
from jax.numpy import tanh as tanh

from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype

__all__ = [
  'PReLU', 'celu', 'elu', 'gelu', 'glu', 'hard_sigmoid', 'hard_silu', 'hard_swish', 'hard_tanh',
  'identity', 'leaky_relu', 'log_sigmoid', 'log_softmax', 'logsumexp', 'mish', 'normalize',
  'one_hot', 'relu', 'relu6', 'selu', 'sigmoid', 'silu', 'soft_sign', 'softmax', 'softplus',
  'sparse_plus', 'sparse_sigmoid', 'squareplus', 'standardize', 'swish', 'tanh',
]

# The reference's older name of ``standardize`` (the very same function).
normalize = standardize


@set_module('flaxen.linen.activation')
class PReLU(Module):
  """Parametric ReLU: ``x`` where ``x >= 0``, else ``negative_slope * x``.

  The slope is a learnable scalar param named ``negative_slope``.

  Attributes:
    param_dtype: dtype of the slope parameter (default float32).
    negative_slope_init: initial value of the slope (default 0.01).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.PReLU(negative_slope_init=0.1)
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2,)))
    >>> layer.apply(variables, jnp.array([-2.0, 3.0]))
    Array([-0.2,  3. ], dtype=float32)
  """

  param_dtype: Dtype = jnp.float32
  negative_slope_init: float = 0.01

  @compact
  def __call__(self, inputs: Array) -> Array:
    """Applies the activation.

    Args:
      inputs: any array.

    Returns:
      An array of the same shape and dtype as ``inputs``.
    """
    slope = self.param(
      'negative_slope',
      lambda _key: jnp.asarray(self.negative_slope_init, self.param_dtype),
    )
    return jnp.where(inputs >= 0, inputs, jnp.asarray(slope, inputs.dtype) * inputs)
