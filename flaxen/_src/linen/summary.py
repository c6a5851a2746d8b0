"""``tabulate``: a Module's calls, inputs, outputs, variables (and FLOPs) as data and as text.

The module is initialised under ``jax.eval_shape`` (no computation, no allocation) while a
method interceptor records every call of a bound module's method except ``setup``: its
path, a detached copy of the module, its RNGs and mutable filter, the method name and the
represented arguments and output (``summary_values``). Calls are ordered by when they
started. Each kept call becomes a ``Row``; the rows form a ``Table`` (a list, with the
module and the variable collections), which ``summary_render`` prints.

Which calls are kept: the first call of each module path (all of them with
``show_repeated=True``, repeated ones listing no variables); calls deeper than ``depth``
are dropped and the variables of their subtree are counted in the row at ``depth``, so the
rows always add up to the totals. A row lists the module's own variables: those under its
path that do not belong to a called submodule.

Nothing here touches the core call path: recording attaches through ``intercept_methods``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import jax

from flaxen._src.core.filters import DenyList
from flaxen._src.linen.module.interceptors import intercept_methods
from flaxen._src.linen.summary_flops import call_flops
from flaxen._src.linen.summary_render import render_table
from flaxen._src.linen.summary_values import represent_tree, size_and_bytes
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import unfreeze

_PUBLIC = 'flaxen.linen.summary'


@set_module(_PUBLIC)
@dataclasses.dataclass
class Row:
  """One row of the summary: one recorded method call.

  Attributes:
    path: the module's path (names from the root).
    module_copy: a detached copy of the module.
    method: the name of the method called.
    inputs: the represented inputs (one argument, a tuple of them, the keyword dict, or
      the positional arguments followed by the keyword dict).
    outputs: the represented output.
    module_variables: ``{collection: variables}`` of the module itself (no called
      submodules).
    counted_variables: the variables this row counts: ``module_variables``, or the whole
      subtree for a row at the ``depth`` limit.
    flops: forward FLOPs of the call (``-1`` when not measured).
    vjp_flops: FLOPs of the call's VJP (``-1`` when not measured).
  """

  path: tuple[str, ...]
  module_copy: Any
  method: str
  inputs: Any
  outputs: Any
  module_variables: dict[str, dict[str, Any]]
  counted_variables: dict[str, dict[str, Any]]
  flops: int
  vjp_flops: int

  def size_and_bytes(self, collections: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``{collection: (element count, bytes)}`` of the counted variables."""
    counted = self.counted_variables
    return {c: size_and_bytes(counted[c]) if c in counted else (0, 0) for c in collections}


@set_module(_PUBLIC)
class Table(list):
  """The rows of a summary (a ``list`` of ``Row``) with the summarised module and collections.

  Attributes:
    module: the module summarised.
    collections: the variable collections, one column each.
  """

  def __init__(self, module: Any, collections: Sequence[str], rows: Iterable[Row]):
    super().__init__(rows)
    self.module = module
    self.collections = collections


@dataclasses.dataclass
class _Call:
  index: int
  path: tuple[str, ...]
  module: Any
  rngs: Any
  mutable: Any
  method: str
  args: tuple[Any, ...]
  kwargs: dict[str, Any]
  outputs: Any = None


def _detached(mod: Any) -> Any:
  """An unbound copy of ``mod``; inside a lifted class (``nn.scan(Layer)``...) the copy is of
  the untransformed class, as the reference records the inner module's call."""
  base = type(mod).__dict__.get('_flaxen_lifted_base')
  if base is None:
    return mod.clone()
  fields = {k: mod.__dict__[k] for k in type(mod)._flaxen_field_names}
  return base(parent=None, name=mod.__dict__['name'], **fields)


def _record_calls(module: Any, init_args: tuple, init_kwargs: dict) -> tuple[list[_Call], Any]:
  """Runs ``module.init`` abstractly; returns the recorded calls and the variable shapes."""
  calls: list[_Call] = []
  counter = itertools.count()

  def recorder(next_fun, args, kwargs, context):
    mod = context.module
    if context.method_name == 'setup' or mod.scope is None:
      return next_fun(*args, **kwargs)
    index = next(counter)
    out = next_fun(*args, **kwargs)
    args_r, kwargs_r, out_r = represent_tree((args, kwargs, out))
    scope = mod.scope
    calls.append(_Call(index, tuple(scope.path), _detached(mod), scope.rngs, scope.mutable,
                       context.method_name, args_r, kwargs_r, out_r))
    return out

  def init():
    with intercept_methods(recorder):
      return module.init(*init_args, **init_kwargs)

  with jax.check_tracer_leaks(False):
    variables = jax.eval_shape(init)
  calls.sort(key=lambda c: c.index)
  return calls, variables


def _variables_at(path: tuple[str, ...], variables: Mapping[str, Any]) -> dict[str, Any]:
  """``{collection: subtree at path}`` for the collections that have ``path``."""
  found = {}
  for col, tree in variables.items():
    node = tree
    for name in path:
      if name not in node:
        break
      node = node[name]
    else:
      found[col] = unfreeze(node)
  return found


def _own_variables(path: tuple[str, ...], variables: Mapping[str, Any],
                   called: set[tuple[str, ...]]) -> dict[str, Any]:
  """The variables at ``path`` minus the entries of called submodules."""
  own = _variables_at(path, variables)
  for col in own:
    for key in [k for k in own[col] if path + (k,) in called]:
      del own[col][key]
  return own


def _inputs(args: tuple, kwargs: dict) -> Any:
  if args and kwargs:
    return (*args, kwargs)
  if args:
    return args[0] if len(args) == 1 else args
  return kwargs if kwargs else ()


def module_table(module: Any, depth: int | None, show_repeated: bool, compute_flops: bool,
                 compute_vjp_flops: bool, init_args: tuple, init_kwargs: dict) -> Table:
  """The summary of ``module.init(*init_args, **init_kwargs)`` as a ``Table``."""
  calls, variables = _record_calls(module, init_args, init_kwargs)
  called = {c.path for c in calls}
  seen: set[tuple[str, ...]] = set()
  rows = []
  for call in calls:
    repeated = call.path in seen or not hasattr(call.module, call.method)
    if repeated:
      if not show_repeated:
        continue
      own, counted = {}, {}
    else:
      if depth is not None and len(call.path) > depth:
        continue
      own = _own_variables(call.path, variables, called)
      at_limit = depth is not None and len(call.path) == depth
      counted = _variables_at(call.path, variables) if at_limit else own
    seen.add(call.path)
    flops = call_flops(call, compute_flops, compute_vjp_flops)
    rows.append(Row(call.path, call.module.copy(parent=None), call.method,
                    _inputs(call.args, call.kwargs), call.outputs, own, counted, *flops))
  return Table(module, tuple(_collection_order(variables)), rows)


def _collection_order(variables: Mapping[str, Any]) -> list[str]:
  # The reference iterates a set of names (an order that varies with string hashing);
  # sorted is one of its orders and the same on every run.
  return sorted(variables)


@set_module('flaxen.linen')
def tabulate(
  module: Any,
  rngs: Any,
  depth: int | None = None,
  show_repeated: bool = False,
  mutable: Any = DenyList('intermediates'),
  console_kwargs: Mapping[str, Any] | None = None,
  table_kwargs: Mapping[str, Any] = MappingProxyType({}),
  column_kwargs: Mapping[str, Any] = MappingProxyType({}),
  compute_flops: bool = False,
  compute_vjp_flops: bool = False,
  **kwargs: Any,
) -> Callable[..., str]:
  """Returns ``fn(*args, **kwargs) -> str``: a table summarising ``module``'s calls.

  The forward pass runs under ``jax.eval_shape`` (no FLOPs, no memory) while every module
  method call is recorded. Rows follow the order in which calls started.

  Args:
    module: the (unbound) module to summarise.
    rngs: the rngs given to ``Module.init`` (a key or a dict of keys).
    depth: how many submodule levels to show (``None``: all). Variables of hidden
      modules are counted in the row of their first shown ancestor.
    show_repeated: show every call of a module, not only the first.
    mutable: the collections ``init`` may create (default: all but ``intermediates``).
    console_kwargs: keyword arguments for ``rich.console.Console``
      (defaults ``force_terminal=True``, ``force_jupyter=False``).
    table_kwargs: keyword arguments for ``rich.table.Table``.
    column_kwargs: keyword arguments for each ``Table.add_column``.
    compute_flops: add a ``flops`` column: each call's forward FLOPs, from XLA's cost
      analysis of the lowered (not compiled) call.
    compute_vjp_flops: add a ``vjp_flops`` column: the FLOPs of each call's VJP
      (``0`` when it is not differentiable).
    **kwargs: further keyword arguments of ``init``, e.g. ``method``.

  Returns:
    A function with the forward signature that returns the rendered table.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Foo(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x):
    ...     return nn.Dense(2)(nn.Dense(4)(x))
    >>> table = nn.tabulate(Foo(), jax.random.key(0), compute_flops=True,
    ...                     console_kwargs={'force_terminal': False})(jnp.ones((16, 9)))
    >>> 'Total Parameters: 50 (200 B)' in table, '1504' in table
    (True, True)
  """
  if mutable != DenyList('intermediates'):
    kwargs['mutable'] = mutable
  columns = ['path', 'module', 'inputs', 'outputs']
  if compute_flops:
    columns.append('flops')
  if compute_vjp_flops:
    columns.append('vjp_flops')

  def table_text(*args: Any, **fn_kwargs: Any) -> str:
    table = module_table(module, depth, show_repeated, compute_flops, compute_vjp_flops,
                         (rngs, *args), {**fn_kwargs, **kwargs})
    return render_table(table, console_kwargs, table_kwargs, column_kwargs, columns)

  return table_text


@set_module(_PUBLIC)
def module_summary(module: Any, rngs: Any, *args: Any, depth: int | None = None,
                   show_repeated: bool = False, compute_flops: bool = False,
                   compute_vjp_flops: bool = False, **init_kwargs: Any) -> Table:
  """The summary of ``module.init(rngs, *args, **init_kwargs)`` as data (a ``Table`` of ``Row``).

  The same rows ``tabulate`` prints, for programs that want the numbers instead of text.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> table = nn.summary.module_summary(nn.Dense(3), jax.random.key(0), jnp.ones((2, 4)))
    >>> [(r.path, r.method, r.size_and_bytes(table.collections)) for r in table]
    [((), '__call__', {'params': (15, 60)})]
  """
  return module_table(module, depth, show_repeated, compute_flops, compute_vjp_flops,
                      (rngs, *args), init_kwargs)


def _get_module_table(module: Any, depth: int | None, show_repeated: bool, compute_flops: bool,
                      compute_vjp_flops: bool) -> Callable[..., Table]:
  """The reference's (private) entry point: ``fn(*init_args, **init_kwargs) -> Table``."""

  def table_fn(*args: Any, **kwargs: Any) -> Table:
    return module_table(module, depth, show_repeated, compute_flops, compute_vjp_flops, args,
                        kwargs)

  return table_fn
