"""Functional dropout (public path ``flaxen.core.nn.stochastic``).

``dropout(scope, x, rate)`` keeps each entry with probability ``1 - rate`` and scales
the kept entries by ``1 / (1 - rate)``; the mask is drawn from the scope's ``'dropout'``
stream unless a key is passed. ``rate == 0`` and ``deterministic=True`` return the input
unchanged without drawing a key.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax, random

from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.typing import Array, PRNGKey


@set_module('flaxen.core.nn.stochastic')
def dropout(
  scope: Scope, inputs: Array, rate: float, deterministic: bool = False, rng: PRNGKey | None = None
) -> Array:
  """Zeroes a random ``rate`` fraction of ``inputs`` and rescales the rest.

  Args:
    scope: the scope whose ``'dropout'`` stream supplies the key (when ``rng`` is None).
    inputs: the array to mask.
    rate: the probability of dropping an entry.
    deterministic: return ``inputs`` unchanged.
    rng: an explicit key for the mask.

  Returns:
    The masked array.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import apply, nn
    >>> y = apply(nn.dropout)({}, jnp.ones(1000), 0.5,
    ...                       rngs={'dropout': jax.random.key(0)})
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
  """
  if rate == 0.0 or deterministic:
    return inputs
  keep = 1.0 - rate
  if rng is None:
    rng = scope.make_rng('dropout')
  mask = random.bernoulli(rng, p=keep, shape=inputs.shape)
  return lax.select(mask, inputs / keep, jnp.zeros_like(inputs))
