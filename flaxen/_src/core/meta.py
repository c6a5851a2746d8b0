"""Axis metadata: boxes that carry information about a variable's axes next to its value.

``AxisMetadata`` is the abstract interface (``unbox``, ``replace_boxed``,
``add_axis``, ``remove_axis``); ``Partitioned`` is the concrete box that names
each axis for sharding. Boxes are pytree nodes whose only leaf is the value, so
``jax.tree_util.tree_map`` over a boxed tree maps the values and keeps the
metadata (optimizer states inherit partitioning).

Lifted transforms call ``add_axis``/``remove_axis`` when they stack or unstack
a variable (``nn.scan``/``nn.vmap`` with ``variable_axes``); ``add_axis``
followed by ``remove_axis`` with the same arguments must give back an equal box.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
from jax.sharding import NamedSharding, PartitionSpec
from typing_extensions import Self

from flaxen._src import errors
from flaxen._src.core import spmd
from flaxen._src.core.spmd import get_global_mesh as get_global_mesh
from flaxen._src.core.spmd import global_mesh_defined as global_mesh_defined
from flaxen._src.public import set_module
from flaxen._src.tree import struct
from flaxen._src.typing import LogicalNames

A = TypeVar('A')
TAxisMetadata = TypeVar('TAxisMetadata', bound='AxisMetadata')

PARTITION_NAME = 'partition_name'
"""Key of ``metadata_params`` naming the axis a lifted transform adds to a Partitioned box."""


@set_module('flaxen.core.meta')
class AxisMetadata(Generic[A], metaclass=abc.ABCMeta):
  """Abstract base of metadata boxes around variable values.

  Subclasses must be pytrees whose single leaf-subtree is the boxed value
  (``struct.PyTreeNode`` with the metadata in ``pytree_node=False`` fields).
  """

  @abc.abstractmethod
  def unbox(self) -> A:
    """Returns the boxed value (after applying any constraint the box implies)."""

  def get_value(self) -> A:
    """Alias of ``unbox()``."""
    return self.unbox()

  @abc.abstractmethod
  def replace_boxed(self, val: Any) -> AxisMetadata:
    """Returns a box with the same metadata around ``val``."""

  @abc.abstractmethod
  def add_axis(self: TAxisMetadata, index: int, params: dict[Any, Any]) -> TAxisMetadata:
    """Returns a box whose metadata has a new axis at ``index``."""

  @abc.abstractmethod
  def remove_axis(self: TAxisMetadata, index: int, params: dict[Any, Any]) -> TAxisMetadata:
    """Returns a box whose metadata lost the axis at ``index`` (inverse of ``add_axis``)."""


@set_module('flaxen.core.meta')
def is_axis_metadata(val: Any) -> bool:
  """Whether ``val`` is an ``AxisMetadata`` box."""
  return isinstance(val, AxisMetadata)


def _is_plain_leaf(tree: Any) -> bool:
  return isinstance(tree, jax.Array) or tree is None


@set_module('flaxen.core.meta')
def map_axis_meta(fn: Callable[[AxisMetadata], Any], tree: Any) -> Any:
  """Applies ``fn`` to every box in ``tree``; other leaves are kept."""
  if _is_plain_leaf(tree):
    return tree
  return jax.tree_util.tree_map(
    lambda x: fn(x) if isinstance(x, AxisMetadata) else x, tree, is_leaf=is_axis_metadata
  )


@set_module('flaxen.core.meta')
def add_axis(tree: Any, index: int, params: dict[Any, Any]) -> Any:
  """Calls ``add_axis(index, params)`` on every box in ``tree``."""
  return map_axis_meta(lambda x: x.add_axis(index, params), tree)


@set_module('flaxen.core.meta')
def remove_axis(tree: Any, index: int, params: dict[Any, Any]) -> Any:
  """Calls ``remove_axis(index, params)`` on every box in ``tree``."""
  return map_axis_meta(lambda x: x.remove_axis(index, params), tree)


@set_module('flaxen.core.meta')
def unbox(tree: Any) -> Any:
  """Replaces every box in ``tree`` by its value.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.core import meta
    >>> meta.unbox({'w': meta.Partitioned(jnp.ones(2), ('x',))})['w'].shape
    (2,)
  """
  if _is_plain_leaf(tree):
    return tree
  return map_axis_meta(lambda box: unbox(box.unbox()), tree)


@set_module('flaxen.core.meta')
def replace_boxed(tree: Any, updates: Any) -> Any:
  """Puts the leaves of ``updates`` into the boxes of ``tree`` (same structure up to boxes)."""

  def inner(c, v):
    if isinstance(c, AxisMetadata):
      return c.replace_boxed(replace_boxed(c.unbox(), v))
    return v

  return jax.tree_util.tree_map(inner, tree, updates, is_leaf=is_axis_metadata)


@set_module('flaxen.core.meta')
class Partitioned(struct.PyTreeNode, AxisMetadata[A]):
  """A value whose axes are named for sharding (one mesh axis or ``None`` per axis).

  ``unbox()`` constrains the value to ``PartitionSpec(*names)`` when a mesh is
  known -- the ``mesh`` field, else the global ``jax.set_mesh`` mesh -- and
  returns it unchanged otherwise (see ``flaxen.core.spmd`` for Auto vs Explicit
  meshes).

  Attributes:
    value: the boxed value (the pytree child).
    names: one mesh-axis name (or ``None``) per axis of ``value``.
    mesh: optional mesh used for the sharding constraint.
  """

  value: Any
  names: LogicalNames = struct.field(pytree_node=False)
  mesh: Any = struct.field(default=None, pytree_node=False)

  def __eq__(self, other: Any) -> bool:
    # Field tuples compare element identity first, so a box equals itself even when
    # its value is a multi-element array (Python 3.13's dataclass __eq__ would not).
    if self is other:
      return True
    if type(other) is not type(self):
      return NotImplemented
    return _field_values(self) == _field_values(other)

  def unbox(self, apply_constraint: bool = True) -> A:
    if not apply_constraint:
      return self.value
    return spmd.impose_sharding(self.value, self.get_partition_spec(), self.mesh)

  def replace_boxed(self, val: Any) -> Partitioned:
    return self.replace(value=val)

  def _axis_name(self, params: dict[Any, Any]) -> Any:
    try:
      return params[PARTITION_NAME]
    except KeyError:
      raise errors.PartitioningUnspecifiedError(self) from None

  def add_axis(self, index: int, params: dict[Any, Any]) -> Partitioned:
    new_name = self._axis_name(params)
    short = max(0, index - len(self.names))
    before, after = tuple(self.names)[:index], tuple(self.names)[index:]
    return self.replace(names=before + (None,) * short + (new_name,) + after)

  def remove_axis(self, index: int, params: dict[Any, Any]) -> Partitioned:
    expected = self._axis_name(params)
    position = range(len(self.names))[index]
    if self.names[position] != expected:
      raise AssertionError(
        f'Partitioned.remove_axis: axis {index} of {tuple(self.names)} is named '
        f'{self.names[position]!r}, but the transform removes {expected!r}.'
      )
    return self.replace(names=tuple(n for i, n in enumerate(self.names) if i != position))

  def get_partition_spec(self) -> PartitionSpec:
    """The ``PartitionSpec`` of the names."""
    return PartitionSpec(*self.names)

  def get_sharding(self, mesh: Any) -> Any:
    """The ``NamedSharding`` of the names on ``mesh``."""
    return NamedSharding(mesh, self.get_partition_spec())

  def to_nnx_metadata(self) -> dict[str, Any]:
    """The box's fields as NNX variable metadata (``names`` becomes ``out_sharding``)."""
    return _renamed(_field_values_dict(self), {'names': 'out_sharding'})

  @classmethod
  def from_nnx_metadata(cls, metadata: dict[str, Any]) -> Self:
    """The inverse of ``to_nnx_metadata``; keys that are not fields are dropped."""
    return _from_renamed(cls, metadata, {'out_sharding': 'names'})


def _field_values(box: Any) -> tuple:
  return tuple(getattr(box, f.name) for f in dataclasses.fields(box))


def _field_values_dict(box: Any) -> dict[str, Any]:
  return {f.name: getattr(box, f.name) for f in dataclasses.fields(box)}


def _renamed(metadata: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
  out = {k: v for k, v in metadata.items() if k not in renames}
  out.update({renames[k]: v for k, v in metadata.items() if k in renames})
  return out


def _from_renamed(cls: type, metadata: dict[str, Any], renames: dict[str, str]) -> Any:
  fields = {f.name for f in dataclasses.fields(cls)}
  given = _renamed(dict(metadata), renames)
  return cls(**{k: v for k, v in given.items() if k in fields})


@set_module('flaxen.core.meta')
def with_partitioning(
  fn: Callable[..., Any], names: LogicalNames, mesh: Any = None
) -> Callable[..., Partitioned]:
  """Wraps initializer ``fn`` so its result is boxed in ``Partitioned(value, names, mesh)``.

  Example:
    >>> import jax
    >>> from flaxen.core import meta
    >>> init = meta.with_partitioning(jax.nn.initializers.zeros, (None, 'model'))
    >>> init(jax.random.key(0), (2, 3)).names
    (None, 'model')
  """

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    return Partitioned(fn(*args, **kwargs), tuple(names), mesh=mesh)

  return wrapper


def _spec_of(x: Any) -> PartitionSpec | None:
  """A box's own spec; ``PartitionSpec()`` (replicated) for arrays; ``None`` otherwise."""
  if hasattr(x, 'get_partition_spec'):
    return x.get_partition_spec()
  if hasattr(x, 'shape'):
    return PartitionSpec()
  return None


@set_module('flaxen.core.meta')
def get_partition_spec(tree: Any) -> Any:
  """A tree of ``PartitionSpec``: each box's ``get_partition_spec()``, ``P()`` for arrays.

  Boxes without a ``get_partition_spec`` method, and leaves without a shape, map to ``None``.
  """
  return jax.tree_util.tree_map(_spec_of, tree, is_leaf=is_axis_metadata)


@set_module('flaxen.core.meta')
def get_sharding(tree: Any, mesh: Any) -> Any:
  """A tree of ``NamedSharding`` on ``mesh``: each box's ``get_sharding(mesh)`` when it has one."""

  def one(x):
    if hasattr(x, 'get_sharding'):
      return x.get_sharding(mesh)
    spec = _spec_of(x)
    return None if spec is None else NamedSharding(mesh, spec)

  return jax.tree_util.tree_map(one, tree, is_leaf=is_axis_metadata)
