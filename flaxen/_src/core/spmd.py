"""Logical axis rules and the one place that imposes a sharding (public: ``flaxen.core.spmd``).

Three concepts that every sharding helper above this layer shares:

* **The current rule set.** An ordered sequence of ``(logical name, mesh axes)``
  pairs, held in a ``contextvars`` variable. ``set_logical_axis_rules`` replaces it,
  ``logical_axis_rules(rules)`` replaces it for a ``with`` block (restored with
  its token). The object is stored as given: ``get_logical_axis_rules()`` returns
  the very list or tuple that was set.
* **The global mesh.** ``get_global_mesh()`` is the abstract mesh of the active
  ``jax.set_mesh`` / ``jax.sharding.use_mesh`` context, or ``None``. The legacy
  ``with mesh:`` context does not set it (as in the reference), so constraints
  written without an explicit mesh are then no-ops.
* **Imposing a sharding** (``impose_sharding``). On meshes whose axes are all
  ``Auto`` (the default of ``jax.sharding.Mesh``) it emits
  ``jax.lax.with_sharding_constraint`` exactly as the reference does; on meshes
  whose axes are all ``Explicit`` (the default of ``jax.make_mesh``) a constraint
  would only be an assertion, so it emits ``jax.sharding.reshard`` instead (an
  ``UNCONSTRAINED`` dimension keeps the sharding it already has). A mesh mixing
  ``Explicit`` with ``Auto`` axes is rejected with the ``axis_types`` to pass.

The NNX-style helpers (``apply_rules``, ``get_pspec``, ``shard_value``,
``composite_rules``, ``from_sharding_rules``, ``map_sharding``, ``get_mesh``)
rename the entries of a ``PartitionSpec`` / ``NamedSharding`` / ``Format``
through a rule dictionary (a plain lookup, unlike the priority-based
assignment of ``flaxen.linen.logical_to_mesh_axes``).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import jax
from jax.experimental.layout import Format
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from flaxen._src.public import set_module
from flaxen._src.typing import LogicalRules, Sharding

_PUBLIC = 'flaxen.core.spmd'

_CURRENT_RULES: contextvars.ContextVar[Any] = contextvars.ContextVar(
  'flaxen_logical_axis_rules', default=()
)


# --- the current rule set ----------------------------------------------------------------------
@set_module(_PUBLIC)
def set_logical_axis_rules(rules: LogicalRules) -> None:
  """Makes ``rules`` the logical-to-mesh axis rules of the current context.

  Example:
    >>> from flaxen.core import spmd
    >>> rules = [('batch', 'data')]
    >>> spmd.set_logical_axis_rules(rules)
    >>> spmd.get_logical_axis_rules() is rules
    True
    >>> spmd.set_logical_axis_rules(())
  """
  _CURRENT_RULES.set(rules)


@set_module(_PUBLIC)
def get_logical_axis_rules() -> LogicalRules:
  """The logical-to-mesh axis rules of the current context (``()`` when none were set)."""
  return _CURRENT_RULES.get()


@set_module(_PUBLIC)
@contextlib.contextmanager
def logical_axis_rules(rules: LogicalRules) -> Iterator[None]:
  """Context manager: ``rules`` are the logical axis rules inside the ``with`` block.

  Example:
    >>> from flaxen.core import spmd
    >>> with spmd.logical_axis_rules((('embed', 'model'),)):
    ...   spmd.get_logical_axis_rules()
    (('embed', 'model'),)
    >>> spmd.get_logical_axis_rules()
    ()
  """
  token = _CURRENT_RULES.set(rules)
  try:
    yield
  finally:
    _CURRENT_RULES.reset(token)


@set_module(_PUBLIC)
def composite_rules(rule1: LogicalRules | None, rule2: LogicalRules | None) -> LogicalRules:
  """Merges two rule sets; a name both map must map to the same mesh axes.

  When only one of them is non-empty it is returned as given.

  Raises:
    ValueError: ``rule1`` and ``rule2`` map one logical name to different mesh axes.
  """
  if not rule2:
    return rule1 if rule1 else ()
  if not rule1:
    return rule2
  merged: dict[Any, Any] = dict(rule1)
  for alias, target in rule2:
    if alias in merged and merged[alias] != target:
      raise ValueError(
        f'Inconsistent logical axis annotations for {alias}: {merged[alias]} vs {target}'
      )
    merged[alias] = target
  return tuple(merged.items())


@set_module(_PUBLIC)
def from_sharding_rules(sharding: Sharding, sharding_rules: LogicalRules) -> Sharding:
  """Renames the entries of ``sharding`` that a rule maps (by their ``str``); keeps the rest."""
  lookup = dict(sharding_rules)
  renamed = []
  for entry in sharding:
    renamed.append(lookup[str(entry)] if entry and str(entry) in lookup else entry)
  return tuple(renamed)


# --- renaming the entries of a sharding ---------------------------------------------------------
@set_module(_PUBLIC)
def map_sharding(f: Callable[[Any], Any], sharding: Any) -> Any:
  """Applies ``f`` to each entry of a ``PartitionSpec``/tuple, inside a ``NamedSharding``/``Format``.

  Returns ``None`` for anything else.
  """
  if isinstance(sharding, PartitionSpec | tuple):
    return PartitionSpec(*(f(entry) for entry in sharding))
  if isinstance(sharding, NamedSharding):
    return NamedSharding(sharding.mesh, map_sharding(f, sharding.spec))
  if isinstance(sharding, Format):
    return Format(sharding.layout, map_sharding(f, sharding.sharding))
  return None


@set_module(_PUBLIC)
def get_mesh(sharding: Any) -> Any:
  """The mesh a ``NamedSharding`` (or a ``Format`` around one) names; ``None`` otherwise."""
  if isinstance(sharding, NamedSharding):
    return sharding.mesh
  if isinstance(sharding, Format):
    return get_mesh(sharding.sharding)
  return None


@set_module(_PUBLIC)
def apply_rules(sharding: Any, sharding_rules: LogicalRules | None) -> Any:
  """Renames the axes of ``sharding`` with the current rules merged with ``sharding_rules``.

  Example:
    >>> from flaxen.core import spmd
    >>> spmd.apply_rules(('batch', None, 'mlp'), (('batch', 'data'),))
    P('data', None, 'mlp')
  """
  current = get_logical_axis_rules()
  lookup = dict(composite_rules(current, sharding_rules)) if current or sharding_rules else {}
  return map_sharding(lambda entry: lookup.get(entry, entry), sharding)


@set_module(_PUBLIC)
def get_pspec(sharding: Any, sharding_rules: LogicalRules | None = None) -> PartitionSpec:
  """The ``PartitionSpec`` of ``sharding`` after ``apply_rules``."""
  return apply_rules(sharding, sharding_rules)


# --- the global mesh ----------------------------------------------------------------------------
@set_module('flaxen.core.meta')
def get_global_mesh() -> Any:
  """The abstract mesh of the active ``jax.set_mesh`` context, or ``None``.

  Example:
    >>> from flaxen.core import meta
    >>> meta.get_global_mesh() is None
    True
  """
  mesh = jax.sharding.get_abstract_mesh()
  return None if mesh.empty else mesh


@set_module('flaxen.core.meta')
def global_mesh_defined() -> bool:
  """Whether a global mesh context (``jax.set_mesh`` / ``jax.sharding.use_mesh``) is active."""
  return get_global_mesh() is not None


# --- imposing a sharding ------------------------------------------------------------------------
_MIXED_AXES = 'Mesh must have all axes as Explicit or all axes as Auto. Got mixed axis types: {}'


def _mesh_kind(mesh: Any) -> str:
  """'explicit' when every axis is Explicit, 'auto' when none is; raises on a mix."""
  types = tuple(getattr(mesh, 'axis_types', ()) or ())
  explicit = [t == AxisType.Explicit for t in types]
  if explicit and all(explicit):
    return 'explicit'
  if any(explicit):
    names = tuple(getattr(mesh, 'axis_names', ()))
    raise ValueError(
      _MIXED_AXES.format(types) + f' (mesh axes {names}). Logical partitioning needs one '
      'kind: pass axis_types=(jax.sharding.AxisType.Auto,) * len(axis_names) to '
      'jax.make_mesh to let the compiler propagate constraints, or make every axis Explicit.'
    )
  return 'auto'


def _require_context(mesh: Any, value: Any) -> None:
  """Inside a trace, JAX reshards onto an Explicit mesh only within that mesh's context."""
  traced = any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value))
  if traced and get_global_mesh() is None:
    raise ValueError(
      f'The mesh {mesh} has Explicit axes (the default of jax.make_mesh): JAX reshards '
      'traced values on it only inside its context. Run the computation under '
      '`with jax.set_mesh(mesh):`, or make the mesh with '
      'axis_types=(jax.sharding.AxisType.Auto,) * len(axis_names) to use sharding constraints.'
    )


def _keep_current(spec: PartitionSpec, leaf: Any) -> PartitionSpec:
  """``spec`` with each ``UNCONSTRAINED`` entry replaced by ``leaf``'s current one."""
  if not any(entry is PartitionSpec.UNCONSTRAINED for entry in spec):
    return spec
  current = tuple(jax.typeof(leaf).sharding.spec)
  current += (None,) * (len(spec) - len(current))
  return PartitionSpec(*(
    current[i] if entry is PartitionSpec.UNCONSTRAINED else entry for i, entry in enumerate(spec)
  ))


def _reshard(value: Any, sharding: Any) -> Any:
  def one(leaf):
    if isinstance(sharding, NamedSharding):
      return jax.sharding.reshard(
        leaf, NamedSharding(sharding.mesh, _keep_current(sharding.spec, leaf))
      )
    return jax.sharding.reshard(leaf, _keep_current(sharding, leaf))

  return jax.tree_util.tree_map(one, value)


def impose_sharding(value: Any, spec: Any, mesh: Any = None) -> Any:
  """Constrains ``value`` (an array or a tree of them) to ``spec`` on ``mesh``.

  ``spec`` is a ``PartitionSpec`` (``None`` means replicated), a ``NamedSharding``
  or a ``Format``. Without ``mesh`` the global mesh is used, and without either the
  value is returned as is. See the module docstring for Auto vs Explicit meshes.
  """
  if isinstance(spec, Format):
    return jax.lax.with_sharding_constraint(value, spec)
  if mesh is None and isinstance(spec, NamedSharding):
    mesh = spec.mesh
  target = mesh if mesh is not None else get_global_mesh()
  if target is None:
    return value
  if mesh is not None and not isinstance(spec, NamedSharding):
    spec = NamedSharding(mesh, PartitionSpec() if spec is None else spec)
  elif spec is None:
    spec = PartitionSpec()
  if _mesh_kind(target) == 'explicit':
    _require_context(target, value)
    return _reshard(value, spec)
  return jax.lax.with_sharding_constraint(value, spec)


@set_module(_PUBLIC)
def shard_value(value: Any, out_sharding: Any, sharding_rules: LogicalRules | None,
                mesh: Any) -> Any:
  """Gives ``value`` the sharding ``out_sharding`` (logical names renamed by the rules).

  Args:
    value: an array.
    out_sharding: a ``PartitionSpec``/tuple of (logical) axis names, a
      ``NamedSharding`` or a ``Format``; empty means "leave ``value`` alone".
    sharding_rules: rules merged with the current ones to rename the names.
    mesh: the mesh (default: the mesh of ``out_sharding``, else the global mesh).

  Raises:
    ValueError: no mesh is known, or the mesh mixes Explicit and Auto axes.
  """
  if not out_sharding:
    return value
  if mesh is None:
    mesh = get_global_mesh()
  out_sharding = apply_rules(out_sharding, sharding_rules)
  own_mesh = get_mesh(out_sharding)
  if own_mesh is not None:
    if mesh is not None and mesh != own_mesh:
      raise AssertionError(f'shard_value: mesh {mesh} differs from the sharding\'s {own_mesh}.')
    mesh = own_mesh
  if mesh is None:
    raise ValueError(
      'An auto mesh context or metadata is required if creating a variable'
      f' with annotation {out_sharding=}. '
      'For more guidance, see https://flax.readthedocs.io/en/latest/flip/4844-var-eager-sharding.html.'
      ' Enter `with jax.set_mesh(mesh):` or pass the mesh.'
    )
  if isinstance(out_sharding, PartitionSpec):
    out_sharding = NamedSharding(mesh, out_sharding)
  if isinstance(out_sharding, Format):
    return jax.lax.with_sharding_constraint(value, out_sharding)
  if _mesh_kind(mesh) == 'explicit':
    _require_context(mesh, value)
    return _reshard(value, out_sharding)
  return jax.lax.with_sharding_constraint(value, out_sharding)
