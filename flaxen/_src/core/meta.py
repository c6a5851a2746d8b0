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
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
from jax.sharding import PartitionSpec

from flaxen._src import errors
from flaxen._src.public import set_module
from flaxen._src.tree import struct

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
  return map_axis_meta(lambda x: x.unbox(), tree)


@set_module('flaxen.core.meta')
def replace_boxed(tree: Any, updates: Any) -> Any:
  """Puts the leaves of ``updates`` into the boxes of ``tree`` (same structure up to boxes)."""

  def inner(c, v):
    if isinstance(c, AxisMetadata):
      return c.replace_boxed(replace_boxed(c.unbox(), v))
    return v

  return jax.tree_util.tree_map(inner, tree, updates, is_leaf=is_axis_metadata)


def _global_mesh_defined() -> bool:
  """Whether a mesh context (``with mesh:`` / ``jax.sharding.use_mesh``) is active."""
  try:
    from jax._src import mesh as mesh_lib  # no public query exists

    env = mesh_lib.thread_resources.env.physical_mesh
    if not env.empty:
      return True
    abstract = mesh_lib.get_abstract_mesh()
    return abstract is not None and not abstract.empty
  except Exception:  # pragma: no cover - jax internals moved
    return False


@set_module('flaxen.core.meta')
class Partitioned(struct.PyTreeNode, AxisMetadata[A]):
  """A value whose axes are named for sharding (one name or ``None`` per axis).

  ``unbox()`` applies ``jax.lax.with_sharding_constraint`` with the matching
  ``PartitionSpec`` when a mesh is known (``mesh`` field or an active mesh
  context); otherwise it returns the value.

  Attributes:
    value: the boxed value (the pytree child).
    names: one mesh-axis name (or ``None``) per axis of ``value``.
    mesh: optional mesh used for the sharding constraint.
  """

  value: Any
  names: tuple = struct.field(pytree_node=False)
  mesh: Any = struct.field(default=None, pytree_node=False)

  def unbox(self, apply_constraint: bool = True) -> A:
    if apply_constraint and (self.mesh is not None or _global_mesh_defined()):
      spec = self.get_partition_spec()
      if self.mesh is not None:
        return jax.lax.with_sharding_constraint(
          self.value, jax.sharding.NamedSharding(self.mesh, spec)
        )
      return jax.lax.with_sharding_constraint(self.value, spec)
    return self.value

  def replace_boxed(self, val: Any) -> Partitioned:
    return self.replace(value=val)

  def _get_partition_name(self, params: dict[Any, Any]) -> Any:
    if PARTITION_NAME not in params:
      raise errors.PartitioningUnspecifiedError(self)
    return params[PARTITION_NAME]

  def add_axis(self, index: int, params: dict[Any, Any]) -> Partitioned:
    axis_name = self._get_partition_name(params)
    names = list(self.names)
    while len(names) < index:
      names.append(None)
    names.insert(index, axis_name)
    return self.replace(names=tuple(names))

  def remove_axis(self, index: int, params: dict[Any, Any]) -> Partitioned:
    axis_name = self._get_partition_name(params)
    names = list(self.names)
    removed = names.pop(index)
    if removed != axis_name:
      raise ValueError(f'Axis {index} is named {removed!r}, not {axis_name!r}.')
    return self.replace(names=tuple(names))

  def get_partition_spec(self) -> PartitionSpec:
    """The ``PartitionSpec`` of the names."""
    return PartitionSpec(*self.names)

  def get_sharding(self, mesh: Any) -> Any:
    """The ``NamedSharding`` of the names on ``mesh``."""
    return jax.sharding.NamedSharding(mesh, self.get_partition_spec())


@set_module('flaxen.core.meta')
def with_partitioning(
  fn: Callable[..., Any], names: tuple, mesh: Any = None
) -> Callable[..., Partitioned]:
  """Wraps initializer ``fn`` so its result is boxed in ``Partitioned(value, names, mesh)``.

  Example:
    >>> import jax
    >>> from flaxen.core import meta
    >>> init = meta.with_partitioning(jax.nn.initializers.zeros, (None, 'model'))
    >>> init(jax.random.key(0), (2, 3)).names
    (None, 'model')
  """

  def wrapper(*args, **kwargs):
    return Partitioned(fn(*args, **kwargs), tuple(names), mesh=mesh)

  return wrapper


def _is_partitioned(x: Any) -> bool:
  return isinstance(x, Partitioned)


@set_module('flaxen.core.meta')
def get_partition_spec(tree: Any) -> Any:
  """A tree of ``PartitionSpec``: the box's spec, ``PartitionSpec()`` for plain arrays."""

  def f(x):
    if isinstance(x, Partitioned):
      return x.get_partition_spec()
    if hasattr(x, 'shape'):
      return PartitionSpec()
    return None

  return jax.tree_util.tree_map(f, tree, is_leaf=_is_partitioned)


@set_module('flaxen.core.meta')
def get_sharding(tree: Any, mesh: Any) -> Any:
  """A tree of ``NamedSharding`` on ``mesh`` from ``get_partition_spec(tree)``."""
  return jax.tree_util.tree_map(
    lambda s: jax.sharding.NamedSharding(mesh, s),
    get_partition_spec(tree),
    is_leaf=lambda x: isinstance(x, PartitionSpec),
  )
