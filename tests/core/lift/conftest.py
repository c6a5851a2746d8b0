"""Fixtures shared by the lifted-transform tests."""

import jax
import jax.numpy as jnp
import pytest

from flaxen.core import meta


class AveragedBox(meta.AxisMetadata):
  """A box stored without the mapped/scanned axis: remove_axis broadcasts, add_axis averages."""

  def __init__(self, value):
    self.value = value

  def unbox(self):
    return self.value

  def replace_boxed(self, val):
    return AveragedBox(val)

  def add_axis(self, index, params):
    return AveragedBox(jnp.mean(self.value, axis=index))

  def remove_axis(self, index, params):
    shape = list(jnp.shape(self.value))
    shape.insert(index, params['axis_size'])
    return AveragedBox(jnp.broadcast_to(self.value, shape))


jax.tree_util.register_pytree_node(AveragedBox, lambda b: ((b.value,), None),
                                   lambda _, c: AveragedBox(*c))


@pytest.fixture
def averaged_box():
  """The ``AveragedBox`` class."""
  return AveragedBox
