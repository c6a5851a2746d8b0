"""``Variable``: a named handle on one entry of a scope's collection.

A Variable does not hold the value; every ``.value`` read goes through the
scope (so it sees updates made by others) and every write goes through
``Scope.put_variable`` (so mutability is enforced there). With ``unbox=True``
reads strip metadata boxes and writes put the new value back into the existing
box, keeping its metadata.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import jax

from flaxen._src.core import meta
from flaxen._src.public import set_module

T = TypeVar('T')



@set_module('flaxen.core.scope')
class Variable(Generic[T]):
  """A mutable reference to variable ``name`` of ``collection`` in ``scope``.

  Attributes:
    scope: the owning ``Scope``.
    collection: the collection name, e.g. ``'batch_stats'``.
    name: the variable name.
    unbox: whether ``.value`` strips ``AxisMetadata`` boxes.
  """

  __slots__ = ('scope', 'collection', 'name', 'unbox')

  def __init__(self, scope: Any, collection: str, name: str, unbox: bool = True):
    self.scope = scope
    self.collection = collection
    self.name = name
    self.unbox = unbox

  @property
  def value(self) -> T:
    """The current value (unboxed when ``unbox``)."""
    v = self.scope.get_variable(self.collection, self.name)
    return meta.unbox(v) if self.unbox else v

  @value.setter
  def value(self, value: T) -> None:
    if self.unbox:
      cur = self.scope.get_variable(self.collection, self.name)
      if not isinstance(cur, jax.Array) and _has_boxes(cur):
        value = meta.replace_boxed(cur, value)
    self.scope.put_variable(self.collection, self.name, value)

  def is_mutable(self) -> bool:
    """Whether the collection of this variable may be written."""
    return self.scope.is_mutable_collection(self.collection)

  def __repr__(self) -> str:
    return f'Variable(collection={self.collection!r}, name={self.name!r})'


def _has_boxes(tree: Any) -> bool:
  leaves = jax.tree_util.tree_leaves(tree, is_leaf=meta.is_axis_metadata)
  return any(isinstance(x, meta.AxisMetadata) for x in leaves)
