"""Legacy axis annotations: variables whose logical axis names live in ``<collection>_axes``.

Before metadata boxes (``nn.with_logical_partitioning``), Flax recorded the
logical axis names of a variable in a *side collection*: a parameter ``w`` of
collection ``params`` gets a sibling entry ``params_axes/.../w_axes`` holding an
``AxisMetadata(names)``. ``get_axis_names`` turns such a collection back into a
tree of logical ``PartitionSpec``s shaped like the variables, ready for
``nn.logical_to_mesh``.

Invariants:

* the value itself is stored unboxed; each read (and each write, for
  ``PartitionedVariable``) passes through ``with_logical_constraint`` with the
  variable's names, so the constraint is as active as the rules and mesh are;
* the names are recorded with ``Module.sow`` only where the ``*_axes``
  collection is mutable (``init``); recording the same variable twice must give
  the same names;
* ``AxisMetadata`` is a pytree without leaves, so lifted transforms treat the
  ``*_axes`` collections as static (``scan_with_axes`` broadcasts them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import PartitionSpec

from flaxen._src import errors
from flaxen._src.core.variables import Variable
from flaxen._src.linen.module.context import current_module
from flaxen._src.linen.spmd import RulesFallback, _is_logical_spec, with_logical_constraint
from flaxen._src.public import set_module
from flaxen._src.tree import struct
from flaxen._src.tree.frozen_dict import FrozenDict, freeze, unfreeze
from flaxen._src.tree.traverse_util import flatten_dict, unflatten_dict
from flaxen._src.typing import LogicalPartitionSpecPytree

_PUBLIC = 'flaxen.linen.partitioning'
_AXES_SUFFIX = '_axes'


@set_module(_PUBLIC)
@struct.dataclass
class AxisMetadata:
  """The logical axis names of one variable, kept as static pytree metadata.

  Attributes:
    names: one logical name (or ``None``) per axis, or a tree of such tuples.
  """

  names: LogicalPartitionSpecPytree = struct.field(pytree_node=False)


def _merge_sown_names(previous: Any, new: Any) -> AxisMetadata:
  """``reduce_fn`` of the ``*_axes`` sow: first value wins, repeats must agree."""
  if not isinstance(new, AxisMetadata):
    raise TypeError('Expected newly sown value to be an AxisMetadata')
  if isinstance(previous, AxisMetadata):
    if previous != new:
      raise ValueError(
        'If axis names are sown twice, expected them to match. '
        f'Got {previous} and {new}.'
      )
  elif previous:
    raise AssertionError(f'Non-initial-or-AxisMetadata value encountered: {previous}')
  return new


def _owner(module: Any, what: str) -> Any:
  module = current_module() if module is None else module
  if module is None:
    raise AssertionError(
      f'{what} must be called inside a Module method (compact or setup), or be given '
      'module=...; no Module is running.'
    )
  return module


@set_module(_PUBLIC)
def param_with_axes(
  name: str,
  init_fn: Callable[..., Any],
  *init_args: Any,
  axes: tuple[str, ...] | None = None,
  module: Any = None,
  **init_kwargs: Any,
) -> Any:
  """``Module.param`` that also records the parameter's logical axis names.

  The names are stored as ``params_axes/<path>/<name>_axes`` and the returned
  value is constrained with ``with_logical_constraint(value, P(*axes))``.

  Args:
    name: the parameter name.
    init_fn: the initializer, called as ``init_fn(rng, *init_args, **init_kwargs)``.
    *init_args: positional arguments of ``init_fn`` after the key.
    axes: one logical name per axis of the parameter (``None``: no annotation).
    module: the module to create it in (default: the module whose method runs).
    **init_kwargs: keyword arguments of ``init_fn``.

  Returns:
    The parameter value.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> from flaxen.linen import partitioning as nn_partitioning
    >>> class Layer(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x):
    ...     w = nn_partitioning.param_with_axes(
    ...         'w', nn.initializers.ones, (x.shape[-1], 2), axes=('embed', 'mlp'))
    ...     return x @ w
    >>> v = Layer().init(jax.random.key(0), jnp.ones((1, 3)))
    >>> nn_partitioning.get_axis_names(v['params_axes'])['w']
    P('embed', 'mlp')
  """
  module = _owner(module, 'param_with_axes')
  value = module.param(name, init_fn, *init_args, **init_kwargs)
  if axes is None:
    return value
  value = with_logical_constraint(value, PartitionSpec(*axes))
  module.sow('params' + _AXES_SUFFIX, name + _AXES_SUFFIX, AxisMetadata(axes),
             reduce_fn=_merge_sown_names)
  return value


@set_module(_PUBLIC)
class PartitionedVariable(Variable):
  """A ``Variable`` whose reads and writes are constrained to its logical axes.

  Attributes:
    axes: the logical axis names (``None``: no constraint).
    fallback: what the constraint does with names no rule assigns.
  """

  def __init__(self, scope: Any, collection: str, name: str,
               axes: tuple[str, ...] | None = None,
               fallback: RulesFallback = RulesFallback.AXIS_IS_UNSHARDED):
    super().__init__(scope, collection, name, unbox=False)
    self.axes = axes
    self.fallback = fallback

  def _constrained(self, value: Any) -> Any:
    if self.axes is None:
      return value
    return with_logical_constraint(value, self.axes, fallback=self.fallback)

  @property
  def value(self) -> Any:
    """The current value, constrained to ``axes``."""
    return self._constrained(self.scope.get_variable(self.collection, self.name))

  @value.setter
  def value(self, value: Any) -> None:
    self.scope.put_variable(self.collection, self.name, self._constrained(value))


def _declare_variable(scope: Any, col: str, name: str, init_fn: Callable[..., Any],
                      init_args: tuple, init_kwargs: dict, axes: Any,
                      fallback: RulesFallback) -> PartitionedVariable:
  scope.reserve(name)
  exists = scope.has_variable(col, name)
  can_create = exists or scope.is_mutable_collection(col)
  if not can_create:
    # apply() without the collection: the variable was never made and cannot be made now
    raise errors.ScopeVariableNotFoundError(name, col, scope.path_text)
  if not exists:
    made = init_fn(*init_args, **init_kwargs)
    scope.put_variable(
      col, name, made if axes is None else with_logical_constraint(made, axes, fallback=fallback)
    )
  return PartitionedVariable(scope, col, name, axes, fallback)


@set_module(_PUBLIC)
def variable_with_axes(
  collection: str,
  name: str,
  init_fn: Callable[..., Any],
  *init_args: Any,
  axes: tuple[str, ...] | None = None,
  module: Any = None,
  fallback: RulesFallback = RulesFallback.AXIS_IS_UNSHARDED,
  **init_kwargs: Any,
) -> PartitionedVariable:
  """``Module.variable`` that also records the variable's logical axis names.

  The names are stored as ``<collection>_axes/<path>/<name>_axes``.

  Args:
    collection: the collection, e.g. ``'cache'``.
    name: the variable name.
    init_fn: called as ``init_fn(*init_args, **init_kwargs)`` when the variable is new.
    *init_args: positional arguments of ``init_fn``.
    axes: one logical name per axis of the variable (``None``: no annotation).
    module: the module to create it in (default: the module whose method runs).
    fallback: what the constraint does with names no rule assigns.
    **init_kwargs: keyword arguments of ``init_fn``.

  Returns:
    A ``PartitionedVariable``.

  Raises:
    ScopeVariableNotFoundError: the variable does not exist and the collection is immutable.
  """
  module = _owner(module, 'variable_with_axes')
  var = _declare_variable(module.scope, collection, name, init_fn, init_args, init_kwargs,
                          axes, fallback)
  if axes is not None:
    module.sow(collection + _AXES_SUFFIX, name + _AXES_SUFFIX, AxisMetadata(axes),
               reduce_fn=_merge_sown_names)
  return var


def _as_spec(names: Any) -> PartitionSpec | None:
  return None if names is None else PartitionSpec(*names)


def _strip_suffix(key: Any) -> Any:
  if isinstance(key, str) and key.endswith(_AXES_SUFFIX):
    return key[: -len(_AXES_SUFFIX)]
  return key


@set_module(_PUBLIC)
def get_axis_names(axes_metadata: Any) -> FrozenDict:
  """The logical ``PartitionSpec``s recorded in one ``*_axes`` collection.

  Args:
    axes_metadata: e.g. ``variables['params_axes']``.

  Returns:
    A ``FrozenDict`` shaped like the variable collection (the ``_axes`` suffix of
    each variable name removed) with a ``PartitionSpec`` per variable.
  """
  flat = flatten_dict(unfreeze(axes_metadata))
  specs = {}
  for path, entry in flat.items():
    spec = jax.tree_util.tree_map(_as_spec, entry.names, is_leaf=_is_logical_spec)
    specs[path[:-1] + (_strip_suffix(path[-1]),)] = spec
  return freeze(unflatten_dict(specs))
