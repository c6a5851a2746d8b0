"""``nn.sharding_plan``: check a partitioning plan before anything is allocated.

From ``jax.eval_shape`` of ``model.init`` only (no device memory, no compile),
the plan lists every variable -- and, given an optax transform, every leaf of
its optimizer state -- with its logical axis names, the mesh ``PartitionSpec``
the rules give it, its global size and its size on one device; and it flags
what would silently go wrong:

* ``no_rule`` -- a logical name no rule mentions (the dimension is unsharded);
* ``axis_taken`` -- every rule for a name wants mesh axes another dimension
  already uses (the dimension is unsharded);
* ``not_divisible`` -- the mesh axes of a dimension do not divide its size;
* ``unknown_mesh_axis`` -- a spec names an axis the mesh does not have;
* ``rank_mismatch`` -- the number of names differs from the rank;
* ``invalid_names`` -- the names cannot be resolved at all (e.g. a repeated name).

Where the names come from: ``LogicallyPartitioned`` boxes (logical names,
resolved with the box's rules or the plan's), ``Partitioned`` and other boxes
with ``get_partition_spec`` (mesh names), the legacy ``<collection>_axes``
collections of ``flaxen.linen.partitioning`` (logical names, matched by path;
optimizer-state leaves match by path suffix), else none (replicated).

``ShardingPlan`` holds the rows as data (``entries``, ``issues``, ``totals``);
``print(plan)`` renders a rich table (see ``sharding_plan_table``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import jax
import numpy as np
from jax.sharding import PartitionSpec

from flaxen._src.core import meta
from flaxen._src.core.spmd import get_logical_axis_rules
from flaxen._src.linen import sharding_plan_table
from flaxen._src.linen.partitioning.axes import get_axis_names
from flaxen._src.linen.spmd import LogicallyPartitioned, logical_to_mesh_axes
from flaxen._src.public import set_module
from flaxen._src.tree.traverse_util import flatten_dict

_PUBLIC = 'flaxen.linen'
ISSUE_KINDS = ('no_rule', 'axis_taken', 'not_divisible', 'unknown_mesh_axis', 'rank_mismatch',
               'invalid_names')


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class PlanIssue:
  """One problem of one entry: ``kind`` (one of ``ISSUE_KINDS``) and a sentence."""

  kind: str
  message: str


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class PlanEntry:
  """One array of the plan.

  Attributes:
    group: ``'params'`` (or another variable collection) or ``'opt_state'``.
    path: ``'/'``-joined path inside the group.
    shape: the global shape.
    dtype: the dtype.
    logical: the logical axis names, or ``None`` (mesh names given directly, or none).
    spec: the mesh ``PartitionSpec``.
    global_bytes: bytes of the whole array.
    device_bytes: bytes of the largest shard on one device.
    issues: what would go wrong.
  """

  group: str
  path: str
  shape: tuple[int, ...]
  dtype: Any
  logical: tuple | None
  spec: PartitionSpec
  global_bytes: int
  device_bytes: int
  issues: tuple[PlanIssue, ...] = ()


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class ShardingPlan:
  """The entries of a plan, with per-group and per-device totals.

  Attributes:
    entries: one ``PlanEntry`` per array, variables first, then optimizer state.
    mesh_shape: ``{mesh axis: size}``.
    rules: the rules the logical names were resolved with.
  """

  entries: tuple[PlanEntry, ...]
  mesh_shape: Mapping[str, int]
  rules: Any

  @property
  def issues(self) -> list[tuple[PlanEntry, PlanIssue]]:
    """Every ``(entry, issue)`` pair, in entry order."""
    return [(e, i) for e in self.entries for i in e.issues]

  def totals(self) -> dict[str, tuple[int, int]]:
    """``{group: (global bytes, bytes per device)}`` plus ``'total'``."""
    out: dict[str, tuple[int, int]] = {}
    for e in self.entries:
      g, d = out.get(e.group, (0, 0))
      out[e.group] = (g + e.global_bytes, d + e.device_bytes)
    out['total'] = (sum(e.global_bytes for e in self.entries),
                    sum(e.device_bytes for e in self.entries))
    return out

  def table(self) -> Any:
    """The plan as a ``rich.table.Table``."""
    return sharding_plan_table.build(self)

  def __rich__(self) -> Any:
    return self.table()

  def __str__(self) -> str:
    return sharding_plan_table.render(self)


# --- where the names come from --------------------------------------------------------------------
def _key_name(key: Any) -> str:
  for attr in ('key', 'name', 'idx'):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def _legacy_names(variables: Mapping[str, Any]) -> dict[tuple[str, ...], tuple]:
  """``{(collection, *path): names}`` from the ``<collection>_axes`` collections."""
  found = {}
  for col, tree in variables.items():
    if not col.endswith('_axes') or col[: -len('_axes')] not in variables:
      continue
    for path, spec in flatten_dict(get_axis_names(tree)).items():
      if spec is not None:
        found[(col[: -len('_axes')],) + tuple(str(p) for p in path)] = tuple(spec)
  return found


def _match_suffix(path: tuple[str, ...], legacy: Mapping[tuple[str, ...], tuple]) -> tuple | None:
  for (col, *rest), names in legacy.items():
    if col == 'params' and rest and tuple(path[-len(rest):]) == tuple(rest):
      return names
  return None


# --- checking one entry ---------------------------------------------------------------------------
def _known_names(rules: Any) -> set:
  return {logical for logical, _ in (rules or ())}


def _explain_unassigned(names: tuple, spec: PartitionSpec, rules: Any) -> list[PlanIssue]:
  issues = []
  known = _known_names(rules)
  for dim, (name, entry) in enumerate(zip(names, spec)):
    if not isinstance(name, str) or entry is not None:
      continue
    if name not in known:
      issues.append(PlanIssue('no_rule', f'no rule for {name!r}: dim {dim} is unsharded '
                                         f'(add ({name!r}, None) if intended)'))
    elif any(mesh_axes is not None for logical, mesh_axes in rules if logical == name):
      wanted = [mesh_axes for logical, mesh_axes in rules if logical == name]
      issues.append(PlanIssue('axis_taken', f'{name!r} -> {wanted} already shards another '
                                            f'dim: dim {dim} is unsharded'))
  return issues


def _entry_axes(entry: Any) -> tuple:
  if entry is None or entry is PartitionSpec.UNCONSTRAINED:
    return ()
  return tuple(entry) if isinstance(entry, tuple | list) else (entry,)


def _check_spec(shape: tuple, spec: PartitionSpec, mesh_shape: Mapping[str, int]):
  """Issues of ``spec`` on ``mesh_shape`` and the per-device shard shape."""
  issues, shard = [], list(shape)
  for dim, entry in enumerate(tuple(spec)[: len(shape)]):
    ways = 1
    for axis in _entry_axes(entry):
      if axis not in mesh_shape:
        issues.append(PlanIssue('unknown_mesh_axis',
                                f'mesh has no axis {axis!r} (axes: {tuple(mesh_shape)})'))
        continue
      ways *= mesh_shape[axis]
    if shape[dim] % ways:
      issues.append(PlanIssue('not_divisible', f'dim {dim} (size {shape[dim]}) not divisible '
                                               f'by {entry!r} ({ways} devices)'))
    shard[dim] = -(-shape[dim] // ways)
  return issues, tuple(shard)


def _entry(group: str, path: str, leaf: Any, box: Any, legacy_names: tuple | None,
           rules: Any, mesh_shape: Mapping[str, int]) -> PlanEntry:
  shape, dtype = tuple(leaf.shape), np.dtype(leaf.dtype)
  issues: list[PlanIssue] = []
  logical = None
  if isinstance(box, LogicallyPartitioned) or (box is None and legacy_names is not None):
    logical = tuple(box.names) if box is not None else cast(tuple, legacy_names)  # given here
    box_rules = box.rules if box is not None and box.rules is not None else rules
    try:
      spec = logical_to_mesh_axes(logical, box_rules)
      issues += _explain_unassigned(logical, spec, box_rules)
    except ValueError as err:
      spec = PartitionSpec()
      issues.append(PlanIssue('invalid_names', str(err)))
    names_count = len(logical)
  elif box is not None and hasattr(box, 'get_partition_spec'):
    spec = box.get_partition_spec()
    names_count = len(tuple(spec))
  else:
    spec, names_count = PartitionSpec(), None
  if names_count is not None and names_count != len(shape):
    issues.append(PlanIssue('rank_mismatch', f'{names_count} axis names for an array of '
                                             f'rank {len(shape)} {shape}'))
  more, shard = _check_spec(shape, spec, mesh_shape)
  itemsize = dtype.itemsize
  return PlanEntry(group, path, shape, dtype, logical, spec, math.prod(shape) * itemsize,
                   math.prod(shard) * itemsize, tuple(issues + more))


def _entries(group: str, tree: Any, rules: Any, mesh_shape: Mapping[str, int],
             legacy: Mapping[tuple[str, ...], tuple], by_suffix: bool) -> list[PlanEntry]:
  rows = []
  flat = jax.tree_util.tree_flatten_with_path(tree, is_leaf=meta.is_axis_metadata)[0]
  for key_path, node in flat:
    box = node if meta.is_axis_metadata(node) else None
    leaf = node.unbox(apply_constraint=False) if isinstance(node, meta.Partitioned) else (
      node.unbox() if box is not None else node)
    if not (hasattr(leaf, 'shape') and hasattr(leaf, 'dtype')):
      continue
    path = tuple(_key_name(k) for k in key_path)
    names = _match_suffix(path, legacy) if by_suffix else legacy.get((group,) + path)
    rows.append(_entry(group, '/'.join(path), leaf, box, names, rules, mesh_shape))
  return rows


# --- the abstract model ---------------------------------------------------------------------------
def _is_array_tree(x: Any) -> bool:
  leaves = jax.tree_util.tree_leaves(x)
  return bool(leaves) and all(hasattr(v, 'shape') and hasattr(v, 'dtype') for v in leaves)


def _abstract_init(model: Any, inputs: Sequence[Any], kwargs: Mapping[str, Any], rngs: Any,
                   method: Any) -> Any:
  """``jax.eval_shape`` of ``model.init``; array arguments are traced, the rest closed over."""
  traced = [i for i, a in enumerate(inputs) if _is_array_tree(a)]
  traced_kw = {k: v for k, v in kwargs.items() if _is_array_tree(v)}

  def init(keys, arrays, arrays_kw):
    args = list(inputs)
    for i, a in zip(traced, arrays):
      args[i] = a
    return model.init(keys, *args, method=method, **{**kwargs, **arrays_kw})

  keys = jax.random.key(0) if rngs is None else rngs
  return jax.eval_shape(init, keys, [inputs[i] for i in traced], traced_kw)


def _mesh_shape(mesh: Any) -> dict[str, int]:
  if isinstance(mesh, Mapping):
    return {str(k): int(v) for k, v in mesh.items()}
  return {str(k): int(v) for k, v in mesh.shape.items()}


@set_module(_PUBLIC)
def sharding_plan(
  model: Any,
  *example_inputs: Any,
  mesh: Any,
  rules: Any = None,
  tx: Any = None,
  rngs: Any = None,
  method: Any = None,
  **init_kwargs: Any,
) -> ShardingPlan:
  """Reports how every variable (and optimizer-state leaf) would be sharded, and what is wrong.

  Nothing is allocated or compiled: ``model.init`` (and ``tx.init``) run under
  ``jax.eval_shape``.

  Args:
    model: the Module.
    *example_inputs: the arguments of ``model.init`` after the key: arrays or
      ``jax.ShapeDtypeStruct``s (traced), or Python values (passed as they are).
    mesh: a ``Mesh``/``AbstractMesh``, or a ``{axis name: size}`` mapping (no
      devices needed).
    rules: the logical axis rules (default: the current ones).
    tx: an optax ``GradientTransformation`` whose state is planned too.
    rngs: the key(s) for ``init`` (default ``jax.random.key(0)``).
    method: the method ``init`` calls (default ``__call__``).
    **init_kwargs: keyword arguments of ``model.init``.

  Returns:
    A ``ShardingPlan``; ``print`` it for a table, read ``entries`` / ``issues`` /
    ``totals()`` for data.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> dense = nn.Dense(6, kernel_init=nn.with_logical_partitioning(
    ...     nn.initializers.lecun_normal(), ('embed', 'mlp')))
    >>> plan = nn.sharding_plan(dense, jax.ShapeDtypeStruct((8, 4), jnp.float32),
    ...                         mesh={'data': 2, 'model': 4}, rules=[('mlp', 'model')])
    >>> [(e.path, e.spec) for e in plan.entries]
    [('bias', P()), ('kernel', P(None, 'model'))]
    >>> [i.kind for _, i in plan.issues]
    ['no_rule', 'not_divisible']
  """
  if rules is None:
    rules = get_logical_axis_rules()
  shape = _mesh_shape(mesh)
  variables = _abstract_init(model, example_inputs, init_kwargs, rngs, method)
  legacy = _legacy_names(variables)
  entries: list[PlanEntry] = []
  for col, tree in variables.items():
    if col.endswith('_axes') and col[: -len('_axes')] in variables:
      continue
    entries += _entries(col, tree, rules, shape, legacy, by_suffix=False)
  if tx is not None and 'params' in variables:
    opt_state = jax.eval_shape(tx.init, variables['params'])
    entries += _entries('opt_state', opt_state, rules, shape, legacy, by_suffix=True)
  return ShardingPlan(tuple(entries), shape, rules)
