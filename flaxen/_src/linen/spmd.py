"""Logical axis names for SPMD partitioning (``nn.spmd``).

Model code names array dimensions with *logical* names (``'batch'``,
``'embed'``, ``'layers'``...). A *rule set* -- an ordered sequence of
``(logical name, mesh axis or None)`` pairs -- maps them to the axes of a
device mesh, so the partitioning plan can change without touching the model.

Mapping (``logical_to_mesh_axes``): rules are tried in order; a rule assigns
its mesh axis to the array dimension with that logical name only if that
dimension is still unassigned and the mesh axis is not used by another
dimension yet. Dimensions no rule assigns are unsharded (``None``), or left
unconstrained / rejected depending on ``RulesFallback`` in
``with_logical_constraint``.

The current rules live in a ``contextvars`` variable: ``set_logical_axis_rules``
sets them, ``logical_axis_rules(rules)`` sets them inside a ``with`` block.
Sharding constraints are no-ops on CPU and when no mesh is known.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import enum
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
from jax.sharding import NamedSharding, PartitionSpec

from flaxen._src.core import meta
from flaxen._src.public import set_module
from flaxen._src.tree import struct

LogicalRules = Sequence[tuple[str, Any]]

_RULES: contextvars.ContextVar[tuple] = contextvars.ContextVar('flaxen_axis_rules', default=())


class _Unassigned:
  __slots__ = ()

  def __repr__(self) -> str:
    return '<unassigned>'


_UNASSIGNED = _Unassigned()


@set_module('flaxen.linen')
def set_logical_axis_rules(rules: LogicalRules) -> None:
  """Sets the global logical-to-mesh axis rules."""
  _RULES.set(tuple(rules))


@set_module('flaxen.linen')
def get_logical_axis_rules() -> tuple:
  """Returns the current logical-to-mesh axis rules."""
  return _RULES.get()


@set_module('flaxen.linen')
@contextlib.contextmanager
def logical_axis_rules(rules: LogicalRules) -> Iterator[None]:
  """Context manager: ``rules`` are the logical axis rules inside the ``with`` block.

  Example:
    >>> from flaxen import linen as nn
    >>> with nn.logical_axis_rules((('batch', 'data'),)):
    ...   tuple(nn.logical_to_mesh_axes(('batch', 'embed')))
    ('data', None)
  """
  token = _RULES.set(tuple(rules))
  try:
    yield
  finally:
    _RULES.reset(token)


@set_module('flaxen.linen')
class RulesFallback(enum.Enum):
  """What ``with_logical_constraint`` does with a dimension no rule assigns."""

  AXIS_IS_UNSHARDED = 'axis_is_unsharded'
  RAISE_ERROR = 'raise_error'
  NO_CONSTRAINT = 'no_constraint'


def _assign(array_dim_names: Sequence[str | None] | None, rules: Any) -> list | None:
  if array_dim_names is None:
    return None
  if rules is None:
    rules = get_logical_axis_rules()
  if not isinstance(rules, tuple | list):
    raise ValueError(f'Unknown axis rule specification type: {rules!r}')
  names = tuple(array_dim_names)
  counts = collections.Counter(n for n in names if n is not None)
  dups = tuple(n for n, c in counts.items() if c > 1)
  if dups:
    raise ValueError(f'Unsupported: Dimensions {dups} occur more than once in array names.')
  result: list[Any] = [_UNASSIGNED] * len(names)
  used: set[Any] = set()
  for logical, mesh_axes in rules:
    if logical not in names:
      continue
    pos = names.index(logical)
    wanted = set(jax.tree_util.tree_leaves(mesh_axes))
    if result[pos] is _UNASSIGNED and not (wanted & used):
      result[pos] = mesh_axes
      used |= wanted
  for i, n in enumerate(names):
    if n is None and result[i] is _UNASSIGNED:
      result[i] = None
  return result


@set_module('flaxen.linen')
def logical_to_mesh_axes(
  array_dim_names: Sequence[str | None] | None, rules: LogicalRules | None = None
) -> PartitionSpec | None:
  """The mesh ``PartitionSpec`` of an array whose dimensions have ``array_dim_names``.

  Example:
    >>> from flaxen import linen as nn
    >>> rules = (('batch', 'X'), ('features', 'X'), ('heads', 'Y'), ('batch', 'Z'))
    >>> tuple(nn.logical_to_mesh_axes(('batch', 'length', 'heads', 'features'), rules))
    ('X', None, 'Y', None)

  Raises:
    ValueError: a logical name occurs twice, or the rules are not a sequence.
  """
  result = _assign(array_dim_names, rules)
  if result is None:
    return None
  return PartitionSpec(*(None if x is _UNASSIGNED else x for x in result))


def _with_fallback(names, rules, fallback: RulesFallback) -> PartitionSpec | None:
  result = _assign(names, rules)
  if result is None:
    return None
  if fallback is RulesFallback.AXIS_IS_UNSHARDED:
    result = [None if x is _UNASSIGNED else x for x in result]
  elif fallback is RulesFallback.NO_CONSTRAINT:
    result = [PartitionSpec.UNCONSTRAINED if x is _UNASSIGNED else x for x in result]
  elif any(x is _UNASSIGNED for x in result):
    raise ValueError(f'Axis names {tuple(names)} did not match a rule (rules: {rules!r}).')
  return PartitionSpec(*result)


def _is_spec(x: Any) -> bool:
  return isinstance(x, PartitionSpec)


@set_module('flaxen.linen')
def logical_to_mesh(tree: Any, rules: LogicalRules | None = None) -> Any:
  """Maps ``logical_to_mesh_axes`` over a tree of logical ``PartitionSpec``s."""
  return jax.tree_util.tree_map(
    lambda s: logical_to_mesh_axes(s, rules) if _is_spec(s) else s, tree, is_leaf=_is_spec
  )


@set_module('flaxen.linen')
def logical_to_mesh_sharding(tree: Any, mesh: Any, rules: LogicalRules | None = None) -> Any:
  """A tree of ``NamedSharding``s on ``mesh`` from a tree of logical ``PartitionSpec``s."""
  return jax.tree_util.tree_map(
    lambda s: NamedSharding(mesh, logical_to_mesh_axes(s, rules)) if _is_spec(s) else s,
    tree, is_leaf=_is_spec,
  )


def _constrain(x: Any, spec: PartitionSpec | None, mesh: Any) -> Any:
  if spec is None:
    return x
  if jax.devices()[0].platform == 'cpu':
    return x
  if mesh is not None:
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))
  if not meta._global_mesh_defined():
    return x
  return jax.lax.with_sharding_constraint(x, spec)


@set_module('flaxen.linen')
def with_logical_constraint(
  x: Any,
  logical_axis_resources: Any,
  rules: LogicalRules | None = None,
  mesh: Any = None,
  fallback: RulesFallback = RulesFallback.AXIS_IS_UNSHARDED,
) -> Any:
  """``with_sharding_constraint`` with logical axis names (a no-op without rules or a mesh).

  Args:
    x: an array or a tree of arrays.
    logical_axis_resources: logical names per dimension (or a tree of them).
    rules: the rules (default: the current ones).
    mesh: the mesh (default: the active mesh context, if any).
    fallback: what to do with dimensions no rule assigns.
  """
  if rules is None:
    rules = get_logical_axis_rules()
  if not rules or logical_axis_resources is None:
    return x

  def one(arr, names):
    return _constrain(arr, _with_fallback(names, rules, fallback), mesh)

  if isinstance(logical_axis_resources, PartitionSpec | tuple | list) and not isinstance(
    x, tuple | list | dict
  ):
    return one(x, tuple(logical_axis_resources))
  return jax.tree_util.tree_map(one, x, logical_axis_resources, is_leaf=_is_spec)


@set_module('flaxen.linen')
class LogicallyPartitioned(meta.Partitioned):
  """A ``Partitioned`` box whose names are logical axis names, resolved with ``rules``.

  Attributes:
    rules: the rules to resolve the names with (default: the current ones).
  """

  rules: Any = struct.field(default=None, pytree_node=False)

  def unbox(self, apply_constraint: bool = True) -> Any:
    if not apply_constraint:
      return self.value
    return with_logical_constraint(
      self.value, self.get_partition_spec(), rules=self.rules, mesh=self.mesh
    )

  def get_sharding(self, mesh: Any) -> Any:
    """The ``NamedSharding`` of the resolved (mesh) names on ``mesh``."""
    return NamedSharding(mesh, logical_to_mesh_axes(self.names, self.rules))


@set_module('flaxen.linen')
def with_logical_partitioning(
  fn: Callable[..., Any], names: tuple, mesh: Any = None, rules: LogicalRules | None = None
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
