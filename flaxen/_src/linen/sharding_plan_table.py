"""Rendering of a ``ShardingPlan`` as a rich table (one row per array, then totals).

Columns: path, shape and dtype, logical names, mesh spec, global size, size per
device, issues. Rows with issues are highlighted; the footer has the totals per
group (variable collections, optimizer state) and for everything, global and
per device. Kept apart from the plan so the data side never imports ``rich``.
"""

from __future__ import annotations

import io
from typing import Any, Literal


def human_bytes(n: int) -> str:
  """``1536`` -> ``'1.5 KiB'`` (binary units, as device memory is counted)."""
  value = float(n)
  for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
    if value < 1024 or unit == 'TiB':
      return f'{int(value)} {unit}' if unit == 'B' else f'{value:.1f} {unit}'
    value /= 1024
  raise AssertionError('unreachable')


def _names(logical: Any) -> str:
  return '-' if logical is None else '(' + ', '.join(repr(n) for n in logical) + ')'


def _spec(spec: Any) -> str:
  return 'P(' + ', '.join(repr(e) for e in tuple(spec)) + ')'


def build(plan: Any) -> Any:
  """A ``rich.table.Table`` of ``plan``."""
  import rich.table
  import rich.text

  mesh = ', '.join(f'{k}={v}' for k, v in plan.mesh_shape.items())
  n_issues = len(plan.issues)
  title = f'Sharding plan on mesh ({mesh}): {len(plan.entries)} arrays, {n_issues} issue(s)'
  table = rich.table.Table(title=title, show_header=True, show_lines=False)
  columns: tuple[tuple[str, Literal['left', 'right']], ...] = (
    ('path', 'left'), ('shape', 'left'), ('logical', 'left'), ('mesh spec', 'left'),
    ('global', 'right'), ('per device', 'right'), ('issues', 'left'))
  for header, justify in columns:
    table.add_column(header, justify=justify, overflow='fold')
  for e in plan.entries:
    issues = '\n'.join(f'{i.kind}: {i.message}' for i in e.issues)
    style = 'red' if e.issues else None
    table.add_row(f'{e.group}/{e.path}', f'{e.dtype.name}{list(e.shape)}', _names(e.logical),
                  _spec(e.spec), human_bytes(e.global_bytes), human_bytes(e.device_bytes),
                  rich.text.Text(issues), style=style)
  table.add_section()
  for group, (whole, per_device) in plan.totals().items():
    label = rich.text.Text('total' if group == 'total' else f'{group} total', style='bold')
    table.add_row(label, '', '', '', human_bytes(whole), human_bytes(per_device), '')
  return table


def render(plan: Any, width: int = 200) -> str:
  """The table of ``plan`` as plain text."""
  import rich.console

  console = rich.console.Console(file=io.StringIO(), width=width, record=True,
                                 force_terminal=False, color_system=None)
  console.print(build(plan))
  return console.export_text()
