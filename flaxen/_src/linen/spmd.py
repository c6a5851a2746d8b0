"""Logical axis names for SPMD partitioning (``nn.spmd``).

Model code names array dimensions with *logical* names (``'batch'``,
``'embed'``, ``'layers'``...). A *rule set* -- an ordered sequence of
``(logical name, mesh axes or None)`` pairs, kept by ``flaxen.core.spmd`` --
maps them to the axes of a device mesh, so the partitioning plan can change
without touching the model.

Assignment (``logical_to_mesh_axes``): the rules are visited in order; a rule
gives its mesh axes to the dimension carrying its logical name when that
dimension has no assignment yet and none of those mesh axes is already taken by
another dimension. A dimension named ``None`` or ``PartitionSpec.UNCONSTRAINED``
keeps that entry (both may repeat); a logical name may appear once per array.
Names no rule assigns become ``None`` (unsharded), or -- in
``with_logical_constraint`` -- skip the constraint or raise, per ``RulesFallback``.

Constraints apply on every platform (CPU included) whenever a mesh is known:
the ``mesh`` argument, or the global ``jax.set_mesh`` mesh.
"""

from __future__ import annotations

import collections
import enum
import functools
from collections.abc import Callable, Sequence
from typing import Any, overload

import jax
from jax.sharding import NamedSharding, PartitionSpec

from flaxen._src.core import meta
from flaxen._src.core.spmd import get_logical_axis_rules, impose_sharding
from flaxen._src.public import set_module
from flaxen._src.tree import struct
from flaxen._src.typing import ArrayPytree, LogicalNames, LogicalPartitionSpecPytree, LogicalRules

_UNCONSTRAINED = PartitionSpec.UNCONSTRAINED


class _UnassignedAxis:
  """Marks a dimension whose logical name no rule has assigned (yet)."""

  __slots__ = ()

  def __repr__(self) -> str:
    return 'UnassignedAxis'

  def __bool__(self) -> bool:
    return False


_UNASSIGNED = _UnassignedAxis()


def _mesh_axes_of(entries: Any) -> set:
  axes = set(jax.tree_util.tree_leaves(entries))
  return axes - {None, _UNCONSTRAINED}


def _assign(array_dim_names: Sequence[Any] | None, rules: Any) -> list | None:
  """Per dimension: its mesh axes, ``None``/``UNCONSTRAINED`` as named, or ``_UNASSIGNED``."""
  if array_dim_names is None:
    return None
  if rules is None:
    rules = get_logical_axis_rules()
  names = tuple(array_dim_names)
  repeated = tuple(
    n for n, c in collections.Counter(names).items() if c > 1 and isinstance(n, str)
  )
  if repeated:
    raise ValueError(f'Unsupported: Dimensions {repeated} occur more than once in array names.')
  if not isinstance(rules, tuple | list):
    raise ValueError(
      'Unknown axis rule specification type. Rules are a sequence of '
      f'(logical name, mesh axes) pairs; got {type(rules).__name__} {rules!r}.'
    )
  slots: list[Any] = [_UNASSIGNED if isinstance(n, str) else n for n in names]
  taken: set = set()  # mesh axes already given to some dimension
  for logical, mesh_axes in rules:
    if logical not in names:
      continue
    dim = names.index(logical)
    wanted = _mesh_axes_of(mesh_axes)
    if slots[dim] is _UNASSIGNED and not wanted & taken:
      slots[dim] = mesh_axes
      taken |= wanted
  return slots


def _unsharded_if_unassigned(slots: list) -> PartitionSpec:
  return PartitionSpec(*(None if s is _UNASSIGNED else s for s in slots))


@overload
def logical_to_mesh_axes(
  array_dim_names: Sequence[str | None], rules: LogicalRules | None = None
) -> PartitionSpec: ...
@overload
def logical_to_mesh_axes(array_dim_names: None, rules: LogicalRules | None = None) -> None: ...
@set_module('flaxen.linen')
def logical_to_mesh_axes(
  array_dim_names: Sequence[str | None] | None, rules: LogicalRules | None = None
) -> PartitionSpec | None:
  """The mesh ``PartitionSpec`` of an array whose dimensions have ``array_dim_names``.

  Args:
    array_dim_names: one logical name (or ``None`` / ``PartitionSpec.UNCONSTRAINED``)
      per dimension, or ``None``.
    rules: the rules (default: the current ones).

  Returns:
    The spec (names no rule assigns are ``None``), or ``None`` for ``None`` names.

  Example:
    >>> from flaxen import linen as nn
    >>> rules = (('batch', 'X'), ('features', 'X'), ('heads', 'Y'), ('batch', 'Z'))
    >>> nn.logical_to_mesh_axes(('batch', 'length', 'heads', 'features'), rules)
    P('X', None, 'Y', None)

  Raises:
    ValueError: a logical name occurs twice, or the rules are not a sequence.
  """
  slots = _assign(array_dim_names, rules)
  return None if slots is None else _unsharded_if_unassigned(slots)


def _is_spec(x: Any) -> bool:
  return isinstance(x, PartitionSpec)


@set_module('flaxen.linen')
def logical_to_mesh(tree: Any, rules: LogicalRules | None = None) -> Any:
  """Maps ``logical_to_mesh_axes`` over a tree of logical ``PartitionSpec``s."""
  return jax.tree_util.tree_map(lambda s: logical_to_mesh_axes(s, rules), tree, is_leaf=_is_spec)


@set_module('flaxen.linen')
def logical_to_mesh_sharding(tree: Any, mesh: Any, rules: LogicalRules | None = None) -> Any:
  """A tree of ``NamedSharding``s on ``mesh`` from a tree of logical ``PartitionSpec``s."""
  return jax.tree_util.tree_map(
    lambda s: NamedSharding(mesh, s), logical_to_mesh(tree, rules), is_leaf=_is_spec
  )


@set_module('flaxen.linen')
class RulesFallback(enum.Enum):
  """What ``with_logical_constraint`` does when a logical name matches no rule.

  ``AXIS_IS_UNSHARDED``: the dimension is unsharded; ``RAISE_ERROR``: raise
  ``ValueError``; ``NO_CONSTRAINT``: leave the array unconstrained.
  """

  AXIS_IS_UNSHARDED = 'axis_is_unsharded'
  RAISE_ERROR = 'raise_error'
  NO_CONSTRAINT = 'no_constraint'


def _constrain_one(logical: Any, x: Any, fallback: RulesFallback, rules: Any, mesh: Any) -> Any:
  slots = _assign(logical, rules)
  if slots is None:
    return impose_sharding(x, None, mesh)
  if fallback is not RulesFallback.AXIS_IS_UNSHARDED and _UNASSIGNED in slots:
    if fallback is RulesFallback.NO_CONSTRAINT:
      return x
    unmatched = tuple(n for n, s in zip(logical, slots) if s is _UNASSIGNED)
    raise ValueError(
      f'Axis names {logical} did not match a rule. No rule assigns {unmatched} '
      f'(rules: {tuple(rules)}); add rules for them or use another RulesFallback.'
    )
  return impose_sharding(x, _unsharded_if_unassigned(slots), mesh)


def _is_axis_entry(x: Any) -> bool:
  return x is None or x is _UNCONSTRAINED or isinstance(x, str)


def _is_logical_spec(x: Any) -> bool:
  """One array's logical names: ``None``, a ``PartitionSpec``, a tuple/list of names."""
  if x is None or isinstance(x, PartitionSpec):
    return True
  return isinstance(x, tuple | list) and all(_is_axis_entry(e) for e in x)


@set_module('flaxen.linen')
def with_logical_constraint(
  x: ArrayPytree,
  logical_axis_resources: LogicalPartitionSpecPytree,
  rules: LogicalRules | None = None,
  mesh: Any = None,
  fallback: RulesFallback = RulesFallback.AXIS_IS_UNSHARDED,
) -> Any:
  """``jax.lax.with_sharding_constraint`` with logical axis names.

  A no-op without rules, or without a mesh (``mesh`` or the global
  ``jax.set_mesh`` mesh). On an Explicit-axes mesh the value is resharded.

  Args:
    x: an array or a tree of arrays.
    logical_axis_resources: the logical names of one array -- applied to every
      leaf of ``x`` -- or a tree of them that is a prefix of ``x``.
    rules: the rules (default: the current ones).
    mesh: the mesh (default: the global mesh, if any).
    fallback: what to do with names no rule assigns.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> mesh = jax.make_mesh((2,), ('data',), (jax.sharding.AxisType.Auto,),
    ...                      devices=jax.devices()[:2])
    >>> with jax.set_mesh(mesh), nn.logical_axis_rules((('batch', 'data'),)):
    ...   y = jax.jit(lambda a: nn.with_logical_constraint(a, ('batch', None)))(jnp.ones((4, 3)))
    >>> y.sharding.spec
    P('data',)
  """
  if rules is None:
    rules = get_logical_axis_rules()
  if not rules or logical_axis_resources is None:
    return x
  one = functools.partial(_constrain_one, fallback=fallback, rules=rules, mesh=mesh)
  return jax.tree_util.tree_map(one, logical_axis_resources, x, is_leaf=_is_logical_spec)


@set_module('flaxen.linen')
class LogicallyPartitioned(meta.Partitioned):
  """A ``Partitioned`` box whose names are logical axis names, resolved with ``rules``.

  Attributes:
    rules: the rules to resolve the names with (default: the current ones).
  """

  rules: LogicalRules | None = struct.field(default=None, pytree_node=False)

  def unbox(self, apply_constraint: bool = True) -> Any:
    if apply_constraint and (self.mesh is not None or meta.global_mesh_defined()):
      return with_logical_constraint(
        self.value, self.get_partition_spec(), rules=self.rules, mesh=self.mesh
      )
    return self.value

  def get_sharding(self, mesh: Any) -> Any:
    """The ``NamedSharding`` on ``mesh`` of the names resolved with the rules.

    With no rules at all (neither ``rules`` nor current ones) the names are used
    as mesh axes, as ``Partitioned`` does.
    """
    rules = self.rules if self.rules is not None else get_logical_axis_rules()
    if not rules:
      return super().get_sharding(mesh)
    return NamedSharding(mesh, logical_to_mesh_axes(self.names, rules))

  def to_nnx_metadata(self) -> dict[str, Any]:
    """The box's fields as NNX variable metadata (``rules`` becomes ``sharding_rules``)."""
    out = super().to_nnx_metadata()
    out['sharding_rules'] = out.pop('rules')
    return out

  @classmethod
  def from_nnx_metadata(cls, metadata: dict[str, Any]) -> LogicallyPartitioned:
    """The inverse of ``to_nnx_metadata``; keys that are not fields are dropped."""
    given = dict(metadata)
    given['rules'] = given.pop('sharding_rules')
    return super().from_nnx_metadata(given)


@set_module('flaxen.linen')
def with_logical_partitioning(
  fn: Callable[..., Any],
  names: LogicalNames,
  mesh: Any = None,
  rules: LogicalRules | None = None,
) -> Callable[..., LogicallyPartitioned]:
  """Wraps initializer ``fn`` so its result is boxed in ``LogicallyPartitioned``.

  Example:
    >>> import jax
    >>> from flaxen import linen as nn
    >>> init = nn.with_logical_partitioning(nn.initializers.zeros, ('embed', 'mlp'))
    >>> init(jax.random.key(0), (2, 3)).names
    ('embed', 'mlp')
  """

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    return LogicallyPartitioned(fn(*args, **kwargs), tuple(names), mesh=mesh, rules=rules)

  return wrapper
