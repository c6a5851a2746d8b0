"""``RNN``: run a recurrent cell over a time axis with ``nn.scan``; ``flip_sequences``.

Layout: ``(*batch, time, *features)`` by default, ``(time, *batch, *features)``
with ``time_major=True``; ``*features`` has ``cell.num_feature_axes`` axes.

The cell (a dataclass field, hence the sub-module name ``cell``) is lifted with
``nn.scan``: by default its ``params`` are broadcast across time steps
(``variable_broadcast='params'``) and the ``params`` RNG is not split, so one
set of weights serves every step; ``variable_axes``/``variable_carry``/
``split_rngs`` pass through to ``nn.scan`` for other collections.

Padding: ``seq_lengths`` (shape ``batch``) gives each sequence's true length.
Outputs at padded steps are not zeroed. With ``return_carry=True`` the final
carry of each sequence is the carry after its last valid step (the scan then
also emits the carry history, which costs memory, only in that case). With
``reverse=True`` each sequence is reversed within its own length (padding stays
at the end) and, with ``keep_order=True``, the outputs are flipped back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import Filter as PRNGSequenceFilter
from flaxen._src.linen.module import Module
from flaxen._src.linen.recurrent.base import Carry, Output, RNNCellBase
from flaxen._src.linen.transforms import scan
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict
from flaxen._src.typing import Array, InOutScanAxis, PRNGKey


def _trailing_ones(x: Array, rank: int) -> Array:
  """``x`` with singleton axes appended up to ``rank``."""
  return jnp.reshape(x, tuple(x.shape) + (1,) * (rank - x.ndim))


@set_module('flaxen.linen.recurrent')
def flip_sequences(
  inputs: Array, seq_lengths: Array | None, num_batch_dims: int, time_major: bool
) -> Array:
  """Reverses sequences along the time axis, each within its own length.

  Without ``seq_lengths`` the whole time axis is reversed. With them, step
  ``t`` of sequence ``b`` receives step ``(seq_lengths[b] - 1 - t) mod T``: the
  first ``seq_lengths[b]`` steps are reversed and the padding after them is
  rotated (values at padded steps are not meaningful).

  Args:
    inputs: ``(*batch, time, *features)`` or, if ``time_major``, ``(time, *batch, *features)``.
    seq_lengths: ``(*batch,)`` integer lengths, or ``None``.
    num_batch_dims: number of batch axes.
    time_major: whether the time axis comes first.

  Returns:
    The flipped array, same shape as ``inputs``.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.linen import recurrent
    >>> x = jnp.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    >>> recurrent.flip_sequences(x, jnp.array([3, 2]), num_batch_dims=1, time_major=False).tolist()
    [[3, 2, 1, 0], [5, 4, 0, 0]]
  """
  time_axis = 0 if time_major else num_batch_dims
  steps = inputs.shape[time_axis]
  if seq_lengths is None:
    return jnp.flip(inputs, axis=time_axis)
  # the time index laid out on the time axis of a (time, *batch) / (*batch, time) grid
  grid = [1] * (num_batch_dims + 1)
  grid[time_axis] = steps
  t = jnp.reshape(jnp.arange(steps), grid)
  lengths = jnp.expand_dims(jnp.asarray(seq_lengths), axis=time_axis)
  source = (lengths - 1 - t) % steps
  return jnp.take_along_axis(inputs, _trailing_ones(source, inputs.ndim), axis=time_axis)


def last_valid_carry(history: Carry, seq_lengths: Array) -> Carry:
  """From a carry history ``(time, *batch, ...)``, each sequence's carry after its last step.

  Works for any number of batch axes (the reference supports exactly one; for
  one batch axis both pick the same entries).
  """
  last_step = jnp.asarray(seq_lengths) - 1

  def pick(x: Array) -> Array:
    return jnp.take_along_axis(x, _trailing_ones(last_step[None], x.ndim), axis=0)[0]

  return jax.tree_util.tree_map(pick, history)


class _Layout:
  """Where time and batch sit in an input of ``shape`` for a cell with ``feature_axes``."""

  def __init__(self, shape: tuple[int, ...], feature_axes: int, time_major: bool):
    ndim = len(shape)
    if time_major:
      self.time_axis = 0
      self.batch_shape = shape[1:-feature_axes]
    else:
      self.time_axis = ndim - (feature_axes + 1)
      if self.time_axis < 0:
        self.time_axis += ndim
      self.batch_shape = shape[:self.time_axis]
    self.step_shape = shape[:self.time_axis] + shape[self.time_axis + 1:]


def _or(value: Any, default: Any) -> Any:
  return default if value is None else value


@set_module('flaxen.linen')
class RNN(Module):
  """Processes a sequence with a recurrent cell (``nn.scan`` over time).

  Attributes:
    cell: an ``RNNCellBase`` instance, e.g. ``nn.LSTMCell(64)``.
    time_major: inputs are ``(time, *batch, *features)`` instead of
      ``(*batch, time, *features)``.
    return_carry: also return the final carry, as ``(carry, outputs)``.
    reverse: process the sequences backwards.
    keep_order: with ``reverse``, flip the outputs back to input order.
    unroll: how many scan steps to unroll per loop iteration.
    variable_axes: collections scanned over time (passed to ``nn.scan``).
    variable_broadcast: collections shared by all steps (default ``'params'``).
    variable_carry: collections carried from step to step.
    split_rngs: which RNG streams get a different key per step.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.RNN(nn.LSTMCell(4))
    >>> x = jnp.ones((2, 5, 3))
    >>> variables = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(variables, x).shape
    (2, 5, 4)
  """

  cell: RNNCellBase
  time_major: bool = False
  return_carry: bool = False
  reverse: bool = False
  keep_order: bool = False
  unroll: int = 1
  variable_axes: Mapping[CollectionFilter, InOutScanAxis] = FrozenDict()
  variable_broadcast: CollectionFilter = 'params'
  variable_carry: CollectionFilter = False
  split_rngs: Mapping[PRNGSequenceFilter, bool] = FrozenDict({'params': False})

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
  ) -> Output | tuple[Carry, Output]:
    """Runs the cell over the time axis of ``inputs``.

    Args:
      inputs: the sequence (layout per ``time_major``).
      initial_carry: the starting carry; default ``cell.initialize_carry``.
      init_key: key for ``cell.initialize_carry`` (default ``jax.random.key(0)``).
      seq_lengths: ``(*batch,)`` true lengths of padded sequences.
      return_carry, time_major, reverse, keep_order: override the attributes.

    Returns:
      ``outputs``, or ``(carry, outputs)`` when ``return_carry``.
    """
    return_carry = _or(return_carry, self.return_carry)
    time_major = _or(time_major, self.time_major)
    reverse = _or(reverse, self.reverse)
    keep_order = _or(keep_order, self.keep_order)
    layout = _Layout(inputs.shape, self.cell.num_feature_axes, time_major)

    def flip(x: Array) -> Array:
      return flip_sequences(x, seq_lengths, num_batch_dims=len(layout.batch_shape),
                            time_major=time_major)

    if reverse:
      inputs = jax.tree_util.tree_map(flip, inputs)
    carry = initial_carry
    if carry is None:
      key = jax.random.key(0) if init_key is None else init_key
      carry = self.cell.initialize_carry(key, layout.step_shape)

    # With padded sequences the final carry is read from the per-step history,
    # which the scan then has to emit (only when the carry is returned).
    keep_history = seq_lengths is not None and return_carry

    def scan_fn(cell: Any, carry: Carry, x: Array) -> tuple[Carry, Any]:
      carry, y = cell(carry, x)
      return carry, ((carry, y) if keep_history else y)

    scanned = scan(
      scan_fn,
      in_axes=layout.time_axis,
      out_axes=(0, layout.time_axis) if keep_history else layout.time_axis,
      unroll=self.unroll,
      variable_axes=self.variable_axes,
      variable_broadcast=self.variable_broadcast,
      variable_carry=self.variable_carry,
      split_rngs=self.split_rngs,
    )
    carry, outputs = scanned(self.cell, carry, inputs)
    if keep_history:
      history, outputs = outputs
      carry = last_valid_carry(history, seq_lengths)
    if reverse and keep_order:
      outputs = jax.tree_util.tree_map(flip, outputs)
    return (carry, outputs) if return_carry else outputs
