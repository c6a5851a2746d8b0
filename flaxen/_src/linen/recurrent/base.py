"""The recurrent-cell interface: ``RNNCellBase``, and how cells build their first carry.

A cell is a Module called as ``cell(carry, inputs) -> (new_carry, outputs)`` on
a single time step. ``RNN`` scans it over time, so every cell also tells how to
build its initial carry and how many trailing axes of an input are features:

* ``initialize_carry(rng, input_shape)`` returns the carry for inputs of shape
  ``input_shape`` (one time step: ``(*batch, *features)``). It does not touch
  variables, so it works on unbound cells (``nn.LSTMCell(4).initialize_carry(
  key, x.shape)``) and is excluded from method wrapping (``nowrap``).
* ``num_feature_axes`` is 1 for vector cells and ``len(kernel_size) + 1`` for
  convolutional ones; everything before those axes (and the time axis) is batch.

Cells take their hidden size from the carry they are given (``h.shape[-1]``),
not from ``features``: ``features`` only sizes the carry ``initialize_carry``
builds. A carry of another size is accepted, as in the reference.

``carry_parts`` builds the carry arrays from ``carry_init``: one array from the
key itself, or several (the ``(c, h)`` pair of LSTMs) from one split key each.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import jax

from flaxen._src.linen.module import Module, nowrap
from flaxen._src.public import set_module
from flaxen._src.typing import Array, PRNGKey

# The reference's names for the pieces a recurrent layer passes around.
Carry = Any
CarryHistory = Any
Output = Any


@overload
def carry_parts(cell: Any, rng: PRNGKey, mem_shape: tuple[int, ...], count: Literal[1]
                ) -> Array: ...
@overload
def carry_parts(cell: Any, rng: PRNGKey, mem_shape: tuple[int, ...], count: Literal[2]
                ) -> tuple[Array, Array]: ...
@overload
def carry_parts(cell: Any, rng: PRNGKey, mem_shape: tuple[int, ...], count: int
                ) -> Array | tuple[Array, ...]: ...
def carry_parts(cell: Any, rng: PRNGKey, mem_shape: tuple[int, ...], count: int
                ) -> Array | tuple[Array, ...]:
  """``count`` carry arrays of ``mem_shape`` from ``cell.carry_init`` in ``cell.param_dtype``.

  ``count == 1`` uses ``rng`` directly and returns a bare array; otherwise
  ``rng`` is split into ``count`` keys, one per array, returned as a tuple.
  """
  if count == 1:
    return cell.carry_init(rng, mem_shape, cell.param_dtype)
  keys = jax.random.split(rng, count)
  return tuple(cell.carry_init(k, mem_shape, cell.param_dtype) for k in keys)


def vector_mem_shape(cell: Any, input_shape: tuple[int, ...]) -> tuple[int, ...]:
  """A vector cell's carry shape: the input's batch axes, then ``features``."""
  return tuple(input_shape[:-1]) + (cell.features,)


@set_module('flaxen.linen')
class RNNCellBase(Module):
  """Base class of recurrent cells (``LSTMCell``, ``GRUCell``, ...).

  Subclasses implement ``__call__(carry, inputs)``, ``initialize_carry`` and
  ``num_feature_axes``.
  """

  @nowrap
  def initialize_carry(self, rng: PRNGKey, input_shape: tuple[int, ...]) -> Carry:
    """Returns the initial carry for one time step of inputs of ``input_shape``.

    Args:
      rng: PRNG key for the carry initializer.
      input_shape: ``(*batch, *features)`` shape of the per-step input.

    Returns:
      The initial carry (an array or a tuple of arrays).
    """
    raise NotImplementedError(
      f'{type(self).__name__} does not implement initialize_carry(rng, input_shape).')

  @property
  def num_feature_axes(self) -> int:
    """Number of trailing feature axes of the per-step input."""
    raise NotImplementedError(f'{type(self).__name__} does not define num_feature_axes.')
