"""``tabulate``: a rich table of a Module's calls, inputs, outputs and variables.

The module is initialised under ``jax.eval_shape`` (no FLOPs, no allocation)
while a method interceptor records every module method call: its path, class,
method name, and the shapes of its inputs and outputs. Each call becomes a row;
each variable collection becomes a column (sorted by name) listing the row's
own variables as ``name: dtype[shape]`` followed by ``count (bytes)``.

Rows follow execution order. With ``show_repeated=False`` only the first call of
a module path is shown. With ``depth=d`` rows deeper than ``d`` are hidden and
their variables are counted in the row of their first shown ancestor, so the
rows always add up to the ``Total`` row. The caption sums every collection.
Nothing here touches the core call path: it attaches through ``intercept_methods``.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from flaxen._src.core import meta
from flaxen._src.core.filters import DenyList
from flaxen._src.linen.module.interceptors import intercept_methods
from flaxen._src.public import set_module


@dataclasses.dataclass
class _Row:
  path: tuple[str, ...]
  module_type: str
  method: str
  inputs: Any
  outputs: Any = None


# ----------------------------------------------------------------------------- rendering


def _leaf_repr(x: Any) -> str:
  if isinstance(x, meta.Partitioned):
    names = ", ".join(str(n) for n in x.names)
    return f"{_leaf_repr(x.value)} P({names})"
  if isinstance(x, meta.AxisMetadata):
    return _leaf_repr(x.unbox())
  if hasattr(x, "shape") and hasattr(x, "dtype"):
    # rich markup: the dtype is dimmed, the shape is literal text
    return f"[dim]{x.dtype}[/dim][{','.join(str(d) for d in x.shape)}]"
  return str(x)


def _is_container(x: Any) -> bool:
  return isinstance(x, (Mapping, list, tuple)) and len(x) > 0


def _yaml(x: Any, indent: int = 0) -> list[str]:
  """Block-style YAML lines (sequences not indented under mapping keys)."""
  pad = " " * indent
  if isinstance(x, Mapping):
    if not x:
      return [pad + "{}"]
    lines = []
    for k, v in x.items():
      if _is_container(v):
        lines.append(f"{pad}{k}:")
        lines += _yaml(v, indent if not isinstance(v, Mapping) else indent + 2)
      else:
        lines.append(f"{pad}{k}: {_scalar(v)}")
    return lines
  if isinstance(x, (list, tuple)):
    if not x:
      return [pad + "[]"]
    lines = []
    for v in x:
      if _is_container(v):
        sub = _yaml(v, indent + 2)
        lines.append(f"{pad}- {sub[0].lstrip()}")
        lines += sub[1:]
      else:
        lines.append(f"{pad}- {_scalar(v)}")
    return lines
  return [pad + _scalar(x)]


def _scalar(x: Any) -> str:
  if isinstance(x, Mapping) and not x:
    return "{}"
  if isinstance(x, (list, tuple)) and not x:
    return "[]"
  return _leaf_repr(x)


def _as_tree(x: Any) -> Any:
  """Containers as plain dicts/lists with leaves kept (boxes are leaves)."""
  if isinstance(x, meta.AxisMetadata):
    return x
  if isinstance(x, Mapping):
    return {k: _as_tree(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
    return [_as_tree(v) for v in x]
  return x


def _render(x: Any) -> str:
  return "\n".join(_yaml(_as_tree(x)))


def _size_bytes(tree: Any) -> tuple[int, int]:
  leaves = jax.tree_util.tree_leaves(tree, is_leaf=meta.is_axis_metadata)
  count = nbytes = 0
  for leaf in leaves:
    if isinstance(leaf, meta.AxisMetadata):
      leaf = leaf.unbox()
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
      n = int(np.prod(leaf.shape))
      count += n
      nbytes += n * np.dtype(leaf.dtype).itemsize
  return count, nbytes


def _bytes_repr(n: int) -> str:
  for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
    if n > scale:
      return f"{n / scale:,.1f} {unit}"
  return f"{n:,} B"


def _size_repr(count: int, nbytes: int, bold: bool = True) -> str:
  """``count (bytes)`` as rich markup: bold count, dimmed bytes."""
  text = f"{count:,} [dim]({_bytes_repr(nbytes)})[/dim]"
  return f"[bold]{text}[/bold]" if bold else text


# ----------------------------------------------------------------------------- rows


def _inputs_of(args: tuple, kwargs: dict) -> Any:
  if args and kwargs:
    return (*args, kwargs)
  if args:
    return args[0] if len(args) == 1 else args
  return kwargs if kwargs else ()


def _shapes(tree: Any) -> Any:
  """Replace arrays (and tracers) by ShapeDtypeStructs so nothing leaks out of eval_shape."""

  def leaf(x):
    if isinstance(x, meta.AxisMetadata):
      return x.replace_boxed(leaf(x.unbox()))
    if isinstance(x, (jax.Array, np.ndarray)) or isinstance(x, jax.core.Tracer):
      return jax.ShapeDtypeStruct(x.shape, x.dtype)
    return x

  return jax.tree_util.tree_map(leaf, tree, is_leaf=meta.is_axis_metadata)


def _subtree(variables: Mapping[str, Any], col: str, path: tuple[str, ...]) -> Any:
  node = variables.get(col, {})
  for name in path:
    if not isinstance(node, Mapping) or name not in node:
      return {}
    node = node[name]
  return node if isinstance(node, Mapping) else {}


def _collect(module: Any, rngs: Any, args: tuple, kwargs: dict, mutable: Any,
             method: Any) -> tuple[list[_Row], Mapping[str, Any]]:
  rows: list[_Row] = []

  def record(next_fun, call_args, call_kwargs, ctx):
    mod = ctx.module
    if mod.scope is None:
      return next_fun(*call_args, **call_kwargs)
    row = _Row(tuple(mod.scope.path), type(mod).__name__, ctx.method_name,
               _shapes(_inputs_of(call_args, call_kwargs)))
    rows.append(row)
    out = next_fun(*call_args, **call_kwargs)
    row.outputs = _shapes(out)
    return out

  def init_fn():
    with intercept_methods(record):
      return module.init(rngs, *args, method=method, mutable=mutable, **kwargs)

  variables = jax.eval_shape(init_fn)
  return rows, variables


def _table_rows(rows: list[_Row], variables: Mapping[str, Any], depth: int | None,
                show_repeated: bool):
  shown, seen = [], set()
  for row in rows:
    if depth is not None and len(row.path) > depth:
      continue
    if not show_repeated and row.path in seen:
      continue
    seen.add(row.path)
    shown.append(row)
  child_names: dict[tuple[str, ...], set[str]] = {}
  for row in rows:
    if row.path:
      child_names.setdefault(row.path[:-1], set()).add(row.path[-1])
  counted = set()
  out = []
  for row in shown:
    first = row.path not in counted
    counted.add(row.path)
    own, count = {}, {}
    for col in variables:
      sub = _subtree(variables, col, row.path)
      mine = {k: v for k, v in sub.items() if k not in child_names.get(row.path, ())}
      own[col] = dict(sorted(mine.items()))
      full = depth is not None and len(row.path) == depth
      count[col] = _size_bytes(sub if full else mine) if first else (0, 0)
    out.append((row, own, count))
  return out


def _collections(variables: Mapping[str, Any]) -> list[str]:
  return sorted(variables)  # eval_shape hands the collections back in sorted order


# ----------------------------------------------------------------------------- public


@set_module("flaxen.linen")
def tabulate(
  module: Any,
  rngs: Any,
  depth: int | None = None,
  show_repeated: bool = False,
  mutable: Any = DenyList("intermediates"),
  console_kwargs: Mapping[str, Any] | None = None,
  table_kwargs: Mapping[str, Any] = {},  # noqa: B006 (read-only)
  column_kwargs: Mapping[str, Any] = {},  # noqa: B006 (read-only)
  compute_flops: bool = False,
  compute_vjp_flops: bool = False,
  **init_kwargs: Any,
) -> Callable[..., str]:
  """Returns ``fn(*args, **kwargs) -> str``: a table summarising ``module``'s calls.

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
    compute_flops: not supported; must stay ``False``.
    compute_vjp_flops: not supported; must stay ``False``.
    **init_kwargs: further keyword arguments of ``init``, e.g. ``method``.

  Returns:
    A function with the forward signature that returns the rendered table.

  Raises:
    ValueError: when ``compute_flops`` or ``compute_vjp_flops`` is requested.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Foo(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x):
    ...     return nn.Dense(2)(nn.Dense(4)(x))
    >>> table = nn.tabulate(Foo(), jax.random.PRNGKey(0),
    ...                     console_kwargs={'force_terminal': False})(jnp.ones((16, 9)))
    >>> 'Total Parameters: 50 (200 B)' in table
    True
  """
  if compute_flops or compute_vjp_flops:
    raise ValueError("flaxen's tabulate does not compute FLOPs; drop compute_flops/compute_vjp_flops")

  def table_fn(*args: Any, **kwargs: Any) -> str:
    method = kwargs.pop("method", init_kwargs.get("method"))
    rows, variables = _collect(module, rngs, args, kwargs, mutable, method)
    return _render_table(type(module).__name__, rows, variables, depth, show_repeated,
                         console_kwargs, table_kwargs, column_kwargs)

  return table_fn


def _render_table(title, rows, variables, depth, show_repeated, console_kwargs, table_kwargs,
                  column_kwargs) -> str:
  import rich.console
  import rich.table
  import rich.text

  cols = _collections(variables)
  table = rich.table.Table(title=f"{title} Summary", show_header=True, show_lines=True,
                           show_footer=False, **dict(table_kwargs))
  for name in ("path", "module", "inputs", "outputs", *cols):
    table.add_column(name, **dict(column_kwargs))
  totals = {c: [0, 0] for c in cols}
  for row, own, count in _table_rows(rows, variables, depth, show_repeated):
    cells = ["/".join(row.path),
             row.module_type + ("" if row.method == "__call__" else f" ({row.method})"),
             _render(row.inputs), _render(row.outputs)]
    for c in cols:
      n, b = count[c]
      totals[c][0] += n
      totals[c][1] += b
      listing = _render(own[c]) if own[c] else ""
      if n or own[c]:
        cells.append((listing + "\n\n" if listing else "") + _size_repr(n, b))
      else:
        cells.append("")
    table.add_row(*cells)
  table.add_row("", "", "", rich.text.Text("Total", justify="right"),
                *[_size_repr(*totals[c]) for c in cols], style="bold")
  all_n = sum(t[0] for t in totals.values())
  all_b = sum(t[1] for t in totals.values())
  # the leading newline leaves one blank (padded) line between table and caption
  table.caption = "\nTotal Parameters: " + (_size_repr(all_n, all_b, bold=False) if cols else "")
  table.caption_style = "bold"
  kw = {"force_terminal": True, "force_jupyter": False, **dict(console_kwargs or {})}
  console = rich.console.Console(file=io.StringIO(), **kw)
  with console.capture() as capture:
    console.print(table)
  return "\n" + capture.get() + "\n"
