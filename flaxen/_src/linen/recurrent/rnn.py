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

from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.linen.attention.checks import BadLayerInput, module_where
from flaxen._src.linen.module import Module
from flaxen._src.linen.recurrent.base import RNNCellBase
from flaxen._src.linen.transforms import scan
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

Array = Any
Carry = Any


def _expand_dims_like(x: Array, target: Array) -> Array:
  """Appends singleton axes to ``x`` until it has ``target``'s rank."""
  return x.reshape(tuple(x.shape) + (1,) * (target.ndim - x.ndim))


@set_module('flaxen.linen.recurrent')
def flip_sequences(
  inputs: Array, seq_lengths: Array | None, num_batch_dims: int, time_major: bool
) -> Array:
  """Reverses sequences along the time axis, each within its own length.

  Without ``seq_lengths`` the whole time axis is reversed. With them, the
  first ``seq_lengths[b]`` steps of sequence ``b`` are reversed and the padding
  after them stays in place (it is rotated, values of padded steps are not
  meaningful).

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
  max_steps = inputs.shape[time_axis]
  if seq_lengths is None:
    return jnp.flip(inputs, axis=time_axis)
  seq_lengths = jnp.expand_dims(jnp.asarray(seq_lengths), axis=time_axis)
  idxs = jnp.arange(max_steps - 1, -1, -1)
  if time_major:
    idxs = jnp.reshape(idxs, (max_steps,) + (1,) * num_batch_dims)
  else:
    idxs = jnp.reshape(idxs, (1,) * num_batch_dims + (max_steps,))
  idxs = (idxs + seq_lengths) % max_steps
  idxs = _expand_dims_like(idxs, target=inputs)
  return jnp.take_along_axis(inputs, idxs, axis=time_axis)


def _select_last_carry(carries: Carry, seq_lengths: Array) -> Carry:
  """From a carry history ``(time, *batch, ...)``, takes each sequence's last valid carry."""
  last = jnp.asarray(seq_lengths) - 1

  def pick(x: Array) -> Array:
    idx = _expand_dims_like(last[None], x)
    return jnp.take_along_axis(x, idx, axis=0)[0]

  return jax.tree_util.tree_map(pick, carries)


def _num_feature_axes(rnn: Any) -> int:
  try:
    return int(rnn.cell.num_feature_axes)
  except (AttributeError, NotImplementedError) as e:
    raise BadLayerInput(
      f'{module_where(rnn)}: the cell {type(rnn.cell).__name__} must define '
      'num_feature_axes and initialize_carry (subclass nn.RNNCellBase).'
    ) from e


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
  variable_axes: Any = FrozenDict()
  variable_broadcast: Any = 'params'
  variable_carry: Any = False
  split_rngs: Any = FrozenDict({'params': False})

  def __call__(
    self,
    inputs: Array,
    *,
    initial_carry: Carry | None = None,
    init_key: Any = None,
    seq_lengths: Array | None = None,
    return_carry: bool | None = None,
    time_major: bool | None = None,
    reverse: bool | None = None,
    keep_order: bool | None = None,
  ):
    """Runs the cell over the time axis of ``inputs``.

    Args:
      inputs: the sequence (layout per ``time_major``).
      initial_carry: the starting carry; default ``cell.initialize_carry``.
      init_key: key for ``cell.initialize_carry`` (default ``PRNGKey(0)``).
      seq_lengths: ``(*batch,)`` true lengths of padded sequences.
      return_carry, time_major, reverse, keep_order: override the attributes.

    Returns:
      ``outputs``, or ``(carry, outputs)`` when ``return_carry``.
    """
    return_carry = self.return_carry if return_carry is None else return_carry
    time_major = self.time_major if time_major is None else time_major
    reverse = self.reverse if reverse is None else reverse
    keep_order = self.keep_order if keep_order is None else keep_order

    feature_axes = _num_feature_axes(self)
    ndim = jnp.ndim(inputs)
    if ndim < feature_axes + 1:
      raise BadLayerInput(
        f'{module_where(self)}: inputs must have a time axis and {feature_axes} feature '
        f'axes ({"(time, *batch, *features)" if time_major else "(*batch, time, *features)"}); '
        f'got shape {jnp.shape(inputs)}.'
      )
    time_axis = 0 if time_major else ndim - (feature_axes + 1)
    if time_major:
      batch_dims = inputs.shape[1:ndim - feature_axes]
    else:
      batch_dims = inputs.shape[:time_axis]
    if seq_lengths is not None and tuple(jnp.shape(seq_lengths)) != tuple(batch_dims):
      raise BadLayerInput(
        f'{module_where(self)}: seq_lengths must have the batch shape {tuple(batch_dims)} of '
        f'the inputs {jnp.shape(inputs)}; got shape {jnp.shape(seq_lengths)}.'
      )

    def flip(x: Array) -> Array:
      return flip_sequences(x, seq_lengths, num_batch_dims=len(batch_dims),
                            time_major=time_major)

    if reverse:
      inputs = jax.tree_util.tree_map(flip, inputs)

    if initial_carry is None:
      if init_key is None:
        init_key = jax.random.PRNGKey(0)
      step_shape = inputs.shape[:time_axis] + inputs.shape[time_axis + 1:]
      carry = self.cell.initialize_carry(init_key, step_shape)
    else:
      carry = initial_carry

    slice_carry = seq_lengths is not None and return_carry

    def scan_fn(cell: Any, carry: Carry, x: Array):
      carry, y = cell(carry, x)
      if slice_carry:
        return carry, (carry, y)
      return carry, y

    scanned = scan(
      scan_fn,
      in_axes=time_axis,
      out_axes=(0, time_axis) if slice_carry else time_axis,
      unroll=self.unroll,
      variable_axes=self.variable_axes,
      variable_broadcast=self.variable_broadcast,
      variable_carry=self.variable_carry,
      split_rngs=self.split_rngs,
    )
    result = scanned(self.cell, carry, inputs)

    if slice_carry:
      _, (carries, outputs) = result
      carry = _select_last_carry(carries, seq_lengths)
    else:
      carry, outputs = result

    if reverse and keep_order:
      outputs = jax.tree_util.tree_map(flip, outputs)

    if return_carry:
      return carry, outputs
    return outputs
