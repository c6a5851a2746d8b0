"""The recurrent-cell interface: ``RNNCellBase``.

A cell is a Module called as ``cell(carry, inputs) -> (new_carry, outputs)`` on
a single time step. ``RNN`` scans it over time, so every cell also tells how to
build its initial carry and how many trailing axes of an input are features:

* ``initialize_carry(rng, input_shape)`` returns the carry for inputs of shape
  ``input_shape`` (one time step: ``(*batch, *features)``). It does not touch
  variables, so it works on unbound cells (``nn.LSTMCell(4).initialize_carry(
  key, x.shape)``) and is excluded from method wrapping (``nowrap``).
* ``num_feature_axes`` is 1 for vector cells and ``len(kernel_size) + 1`` for
  convolutional ones; everything before those axes (and the time axis) is batch.
"""

from __future__ import annotations

from typing import Any

from flaxen._src.linen.module import Module, nowrap
from flaxen._src.public import set_module

Array = Any
PRNGKey = Any
Carry = Any


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
      f'{type(self).__name__} does not implement initialize_carry(rng, input_shape).'
    )

  @property
  def num_feature_axes(self) -> int:
    """Number of trailing feature axes of the per-step input."""
    raise NotImplementedError(f'{type(self).__name__} does not define num_feature_axes.')
