"""``Bidirectional``: run one RNN forwards and another backwards, then merge.

The forward RNN sees the sequence as is; the backward RNN is called with
``reverse=True, keep_order=True`` so its outputs line up with the input
positions. Both always return their carry; ``merge_fn`` (default: concatenate
along the last axis) combines the two output trees. ``init_key`` is split in
two, one key per direction, and ``initial_carry`` is a
``(forward_carry, backward_carry)`` pair. The sub-modules are the fields
``forward_rnn`` and ``backward_rnn``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import jax
import jax.numpy as jnp

from flaxen._src.linen._layer_utils import describe
from flaxen._src.linen.module import Module
from flaxen._src.linen.recurrent.base import Carry, Output
from flaxen._src.public import set_module
from flaxen._src.typing import Array, PRNGKey


@set_module('flaxen.linen.recurrent')
class RNNBase(Protocol):
  """What ``Bidirectional`` needs of each direction: ``RNN``'s call signature."""

  def __call__(
    self,
    inputs: Array,
    *,
    initial_carry: Carry | None = None,
    init_key: PRNGKey | None = None,
    seq_lengths: Array | None = None,
    return_carry: bool | None = None,
    time_major: bool | None = None,
    reverse: bool | None = None,
    keep_order: bool | None = None,
  ) -> Output | tuple[Carry, Output]: ...


def _concatenate(a: Array, b: Array) -> Array:
  """Concatenates two arrays along the last axis."""
  return jnp.concatenate([a, b], axis=-1)


@set_module('flaxen.linen')
class Bidirectional(Module):
  """Processes a sequence in both directions with two RNNs.

  Attributes:
    forward_rnn: the RNN (e.g. ``nn.RNN(cell)``) run forwards.
    backward_rnn: the RNN run backwards.
    merge_fn: combines forward and backward outputs (default: concatenate on
      the last axis).
    time_major: inputs are ``(time, *batch, *features)``.
    return_carry: also return ``(forward_carry, backward_carry)``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Bidirectional(nn.RNN(nn.GRUCell(4)), nn.RNN(nn.GRUCell(4)))
    >>> x = jnp.ones((2, 5, 3))
    >>> variables = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(variables, x).shape
    (2, 5, 8)
  """

  forward_rnn: RNNBase
  backward_rnn: RNNBase
  merge_fn: Callable[[Array, Array], Array] = _concatenate
  time_major: bool = False
  return_carry: bool = False

  def __call__(
    self,
    inputs: Array,
    *,
    initial_carry: Carry | None = None,
    init_key: PRNGKey | None = None,
    seq_lengths: Array | None = None,
    return_carry: bool | None = None,
    time_major: bool | None = None,
    reverse: bool | None = None,
    keep_order: bool | None = None,
  ):
    """Runs both RNNs and merges their outputs.

    Args:
      inputs: the sequence.
      initial_carry: ``(forward_carry, backward_carry)`` or ``None``.
      init_key: key split between the two directions' carry initialisation.
      seq_lengths: ``(*batch,)`` true lengths of padded sequences.
      return_carry, time_major: override the attributes.
      reverse, keep_order: accepted for signature compatibility with ``RNN``;
        ignored (the directions are fixed).

    Returns:
      merged outputs, or ``((forward_carry, backward_carry), outputs)`` when
      ``return_carry``.
    """
    del reverse, keep_order  # each direction is fixed
    time_major = self.time_major if time_major is None else time_major
    return_carry = self.return_carry if return_carry is None else return_carry
    keys = (None, None) if init_key is None else tuple(jax.random.split(init_key))
    carries = (None, None)
    if initial_carry is not None:
      forward_carry, backward_carry = initial_carry  # a pair, as in the reference
      carries = (forward_carry, backward_carry)
    if self.forward_rnn is self.backward_rnn:
      logging.warning('%s: forward_rnn and backward_rnn is the same object, so they will share '
                      'parameters.', describe(self))
    # (rnn, its half of the carry and key, whether it runs backwards)
    runs = zip((self.forward_rnn, self.backward_rnn), carries, keys, (False, True))
    final_carries, outputs = [], []
    for rnn, carry, key, backwards in runs:
      extra = {'keep_order': True} if backwards else {}
      carry, out = rnn(inputs, initial_carry=carry, init_key=key, seq_lengths=seq_lengths,
                       return_carry=True, time_major=time_major, reverse=backwards, **extra)
      final_carries.append(carry)
      outputs.append(out)
    merged = jax.tree_util.tree_map(self.merge_fn, *outputs)
    return (tuple(final_carries), merged) if return_carry else merged
