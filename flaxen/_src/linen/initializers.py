"""Parameter initializers: JAX's own builders plus ``zeros_init`` / ``ones_init``.

An initializer is a callable ``init(key, shape, dtype=float32) -> Array``.
Layers call it through ``Module.param``, which supplies the key.

Invariant: every random builder here *is* the corresponding
``jax.nn.initializers`` function (re-exported, not re-implemented), so the
same key gives bit-identical parameters to the reference. The only additions
are the two no-argument builders ``zeros_init()`` and ``ones_init()``, which
return the plain ``zeros`` / ``ones`` initializers.
"""

from __future__ import annotations

from jax.nn.initializers import constant as constant
from jax.nn.initializers import delta_orthogonal as delta_orthogonal
from jax.nn.initializers import glorot_normal as glorot_normal
from jax.nn.initializers import glorot_uniform as glorot_uniform
from jax.nn.initializers import he_normal as he_normal
from jax.nn.initializers import he_uniform as he_uniform
from jax.nn.initializers import kaiming_normal as kaiming_normal
from jax.nn.initializers import kaiming_uniform as kaiming_uniform
from jax.nn.initializers import lecun_normal as lecun_normal
from jax.nn.initializers import lecun_uniform as lecun_uniform
from jax.nn.initializers import normal as normal
from jax.nn.initializers import ones as ones
from jax.nn.initializers import orthogonal as orthogonal
from jax.nn.initializers import truncated_normal as truncated_normal
from jax.nn.initializers import uniform as uniform
from jax.nn.initializers import variance_scaling as variance_scaling
from jax.nn.initializers import xavier_normal as xavier_normal
from jax.nn.initializers import xavier_uniform as xavier_uniform
from jax.nn.initializers import zeros as zeros

from flaxen._src.public import set_module
from flaxen._src.typing import Initializer as Initializer

__all__ = [
  'Initializer', 'constant', 'delta_orthogonal', 'glorot_normal', 'glorot_uniform', 'he_normal',
  'he_uniform', 'kaiming_normal', 'kaiming_uniform', 'lecun_normal', 'lecun_uniform', 'normal',
  'ones', 'ones_init', 'orthogonal', 'truncated_normal', 'uniform', 'variance_scaling',
  'xavier_normal', 'xavier_uniform', 'zeros', 'zeros_init',
]


@set_module('flaxen.linen.initializers')
def zeros_init() -> Initializer:
  """Builds an initializer that returns an array of zeros (the key is ignored).

  Returns:
    The ``zeros`` initializer, ``init(key, shape, dtype=float32) -> Array``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.linen import initializers
    >>> initializers.zeros_init()(jax.random.PRNGKey(42), (2, 3), jnp.float32)
    Array([[0., 0., 0.],
           [0., 0., 0.]], dtype=float32)
  """
  return zeros


@set_module('flaxen.linen.initializers')
def ones_init() -> Initializer:
  """Builds an initializer that returns an array of ones (the key is ignored).

  Returns:
    The ``ones`` initializer, ``init(key, shape, dtype=float32) -> Array``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.linen import initializers
    >>> initializers.ones_init()(jax.random.PRNGKey(42), (3, 2), jnp.float32)
    Array([[1., 1.],
           [1., 1.],
           [1., 1.]], dtype=float32)
  """
  return ones


default_kernel_init = lecun_normal()
