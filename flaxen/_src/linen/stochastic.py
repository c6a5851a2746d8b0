"""``Dropout``: zero each element with probability ``rate`` during training.

Invariants (pinned by the golden data):
  * ``deterministic`` is the merge of the field and the call argument
    (``merge_param``: exactly one must be given);
  * deterministic or ``rate == 0``: identity, no rng used;
  * ``rate == 1``: zeros (no division by zero, no NaN gradients), no rng used;
  * any other rate is used as given (no range check, as in the reference);
  * otherwise, with ``keep = 1 - rate``:
    ``mask = jax.random.bernoulli(key, keep, shape)`` where ``shape`` is the
    input shape with every ``broadcast_dims`` axis set to 1, and the output is
    ``select(mask, x / keep, 0)``. ``key`` is the ``rng`` argument or
    ``make_rng(rng_collection)`` (so a missing stream raises ``InvalidRngError``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax, random

from flaxen._src import errors
from flaxen._src.linen._layer_utils import LIST_ASSIGNMENT_INDEX, describe, layer_error
from flaxen._src.linen.dtypes import as_array
from flaxen._src.linen.module.compact import compact, nowrap
from flaxen._src.linen.module.helpers import merge_param
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import Array, PRNGKey

__all__ = ['Dropout']


@set_module('flaxen.linen.stochastic')
class Dropout(Module):
  """Randomly zeroes inputs (and rescales the rest by ``1 / (1 - rate)``) in training.

  Attributes:
    rate: probability of dropping an element.
    broadcast_dims: axes along which one mask value is shared (e.g. ``(1,)``
      drops whole time steps of ``(batch, time, features)``).
    deterministic: if True, the layer is the identity; may instead be passed at call time.
    rng_collection: the rng stream the mask is drawn from (default ``'dropout'``).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Dropout(rate=0.5)
    >>> x = jnp.ones((2, 3))
    >>> layer.apply({}, x, deterministic=True).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    >>> y = layer.apply({}, x, deterministic=False, rngs={'dropout': jax.random.PRNGKey(0)})
    >>> bool(jnp.all((y == 0) | (y == 2)))
    True
  """

  rate: float
  broadcast_dims: Sequence[int] = ()
  deterministic: bool | None = None
  rng_collection: str = 'dropout'

  @compact
  def __call__(self, inputs: Array, deterministic: bool | None = None,
               rng: PRNGKey | None = None) -> Array:
    """Applies dropout.

    Args:
      inputs: any array.
      deterministic: overrides/completes the field of the same name.
      rng: optional explicit PRNG key (instead of ``make_rng(rng_collection)``).

    Returns:
      An array like ``inputs``.

    Raises:
      InvalidRngError: no ``rng`` given and neither ``rng_collection`` nor
        ``'params'`` was passed to ``init``/``apply``.
      IndexError: a ``broadcast_dims`` entry the input lacks (as the reference).
    """
    deterministic = merge_param('deterministic', self.deterministic, deterministic)
    if self.rate == 0.0 or deterministic:
      return inputs
    if self.rate == 1.0:
      return jnp.zeros_like(inputs)
    inputs = as_array(inputs)
    keep_prob = 1.0 - self.rate
    if rng is None:
      rng = self._mask_key()
    mask_shape = list(inputs.shape)
    for dim in self.broadcast_dims:
      if not -inputs.ndim <= dim < inputs.ndim:
        raise layer_error(self, LIST_ASSIGNMENT_INDEX, IndexError,
                          hint=f'broadcast_dims entry {dim} for an input of shape {inputs.shape}')
      mask_shape[dim] = 1
    keep = random.bernoulli(rng, p=keep_prob, shape=mask_shape)
    keep = jnp.broadcast_to(keep, inputs.shape)
    return lax.select(keep, inputs / keep_prob, jnp.zeros_like(inputs))

  @nowrap
  def _mask_key(self) -> PRNGKey:
    stream = self.rng_collection
    if not (self.has_rng(stream) or self.has_rng('params')):
      scope_name = getattr(self.scope, 'name', self.name)
      raise errors.InvalidRngError(
        f'{describe(self)} draws its dropout mask from the "{stream}" stream; pass '
        f'rngs={{{stream!r}: key}} to apply, or use deterministic=True. '
        f'{scope_name} needs PRNG for "{stream}"')
    return self.make_rng(stream)
