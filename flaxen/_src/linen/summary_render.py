"""Rendering a summary ``Table`` as the rich text table ``tabulate`` returns.

Layout (the reference's, byte for byte with the same rich/PyYAML versions): a titled
table with header, footer and lines between rows; the columns ``path``, ``module``,
``inputs``, ``outputs`` (then ``flops``/``vjp_flops`` when measured) and one column per
variable collection. Values are printed as block-style YAML with quotes dropped; a
collection cell lists the row's own variables, a blank line and the bold
``count (bytes)`` it counts. The footer holds the per-collection totals (labelled
``Total`` in the last non-collection column) and the caption the grand total.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from flaxen._src.linen.summary_values import (
  normalize_structure,
  render_tree,
  represent_tree,
)

# methods whose name is not printed next to the module's class
_UNNAMED_METHODS = frozenset({'__call__', '<lambda>'})


def bytes_repr(num_bytes: int) -> str:
  """``1.3 KB`` style (decimal units, one decimal) above 1000 bytes, else ``N B``."""
  for unit, scale in (('GB', 1e9), ('MB', 1e6), ('KB', 1e3)):
    if num_bytes > scale:
      return f'{num_bytes / scale:,.1f} {unit}'
  return f'{num_bytes:,} B'


def size_and_bytes_repr(size: int, num_bytes: int) -> str:
  """``count (bytes)`` markup, or ``''`` for an empty count."""
  if not size:
    return ''
  return f'{size:,} [dim]({bytes_repr(num_bytes)})[/dim]'


def as_yaml(value: Any) -> str:
  """Block-style YAML of ``value`` (strings unquoted); ``''`` for empty or ``None``."""
  import yaml

  if value is None or (hasattr(value, '__len__') and len(value) == 0):
    return ''
  buffer = io.StringIO()
  yaml.safe_dump(value, buffer, default_flow_style=False, indent=2, sort_keys=False,
                 explicit_end=False)
  return buffer.getvalue().replace('\n...', '').replace("'", '').strip()


def cell_text(value: Any) -> str:
  """The markup of one inputs/outputs/flops cell."""
  return as_yaml(render_tree(normalize_structure(value)))


def _collection_cell(row: Any, collection: str, size: tuple[int, int]) -> str:
  text = ''
  if collection in row.module_variables:
    listing = normalize_structure(represent_tree(row.module_variables[collection]))
    text = as_yaml(render_tree(listing))
    if text:
      text += '\n\n'
  return text + f'[bold]{size_and_bytes_repr(*size)}[/bold]'


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
  return a[0] + b[0], a[1] + b[1]


def render_table(
  table: Any,
  console_kwargs: Mapping[str, Any] | None,
  table_kwargs: Mapping[str, Any],
  column_kwargs: Mapping[str, Any],
  non_param_columns: Sequence[str],
) -> str:
  """The text of ``table`` (a summary ``Table``), as ``tabulate`` returns it."""
  import rich.console
  import rich.table
  import rich.text

  out = rich.table.Table(show_header=True, show_lines=True, show_footer=True,
                         title=f'{type(table.module).__name__} Summary', **table_kwargs)
  for name in (*non_param_columns, *table.collections):
    out.add_column(name, **column_kwargs)

  totals = {c: (0, 0) for c in table.collections}
  for row in table:
    sizes = row.size_and_bytes(table.collections)
    for c, size in sizes.items():
      totals[c] = _add(totals[c], size)
    method = '' if row.method in _UNNAMED_METHODS else f' [dim]({row.method})[/dim]'
    out.add_row(
      '/'.join(row.path),
      type(row.module_copy).__name__ + method,
      *(cell_text(getattr(row, c)) for c in non_param_columns[2:]),
      *(_collection_cell(row, c, s) for c, s in sizes.items()),
    )

  n_fixed = len(non_param_columns)
  out.columns[n_fixed - 1].footer = rich.text.Text.from_markup('Total', justify='right')
  grand = (0, 0)
  for i, c in enumerate(table.collections):
    out.columns[n_fixed + i].footer = size_and_bytes_repr(*totals[c])
    grand = _add(grand, totals[c])
  out.caption_style = 'bold'
  out.caption = f'\nTotal Parameters: {size_and_bytes_repr(*grand)}'

  options = {'force_terminal': True, 'force_jupyter': False, **(console_kwargs or {})}
  buffer = io.StringIO()
  rich.console.Console(file=buffer, **options).print(out)
  return '\n' + buffer.getvalue() + '\n'
