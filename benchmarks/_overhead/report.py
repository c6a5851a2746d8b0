"""Markdown tables of a result dict (absolute figures, the issue's ratios, targets)."""

from __future__ import annotations

import math

# The targets of issue 11 (ratio = flaxen / pure JAX unless said).
TARGETS = {
  'eager': 2.0, 'init': 1.3, 'lazy_init': 1.3, 'trace': 1.0, 'compile': 1.0, 'step': 1.02,
  'cold_lazy': 1.3, 'cold_rss': 1.2, 'per_leaf_vs_ref': 0.5,
}


def med(res: dict | None, impl: str, metric: str = 's') -> float:
  """The median of ``metric`` for ``impl`` in a measure dict (NaN when missing)."""
  try:
    return float(res[impl][metric]['median'])
  except (KeyError, TypeError):
    return math.nan


def ratio(a: float, b: float) -> float:
  return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def _f(x: float, digits: int = 2) -> str:
  return '—' if x is None or math.isnan(x) else f'{x:.{digits}f}'


def _ms(x: float) -> str:
  if math.isnan(x):
    return '—'
  return f'{x * 1e3:.3g} ms' if x < 1 else f'{x:.3g} s'


def _bold_if(x: float, limit: float) -> str:
  text = _f(x)
  return f'**{text}**' if not math.isnan(x) and x > limit else text


def ratios(result: dict, cpu: bool = False) -> dict:
  """``{workload: {column: ratio}}`` for the issue's table (wall clock, or CPU time)."""
  out = {}
  for name, w in result['workloads'].items():
    row = {}
    for col, key, metric in (('init', 'init', 's'), ('lazy_init', 'lazy_init', 's'),
                             ('trace', 'trace', 'trace_lower'), ('eager', 'eager', 's'),
                             ('compile', 'compile', 's'), ('step', 'step', 's')):
      if cpu:
        metric = 'cpu' if metric == 's' else metric + '_cpu'
      f = med(w.get(key), 'flaxen', metric)
      row[col] = ratio(f, med(w.get(key), 'jax', metric))
      row[col + '_ref'] = ratio(f, med(w.get(key), 'flax', metric))
    eq = w.get('eqns') or {}
    if 'flaxen' in eq and 'jax' in eq:
      row['eqns'] = ratio(eq['flaxen']['total'], eq['jax']['total'])
    row['same_hlo'] = (w.get('same_hlo') or {}).get('flaxen')
    out[name] = row
  return out


def ratio_table(result: dict, cpu: bool = False) -> str:
  has_ref = result['meta'].get('flax') is not None
  cols = [('init', 'init ÷ floor'), ('lazy_init', 'lazy_init ÷ create'), ('trace', 'trace'),
          ('eager', 'eager (batch 1)'), ('compile', 'compile'), ('step', 'step'),
          ('eqns', 'eqns')]
  head, rule = ['workload'], ['---']
  cols.append(('same_hlo', 'same HLO'))
  for key, title in cols:
    head.append(title)
    rule.append('---')
    if has_ref and key not in ('eqns', 'same_hlo'):
      head.append(f'{key} ÷ ref')
      rule.append('---')
  lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(rule) + ' |']
  limits = {'init': TARGETS['init'], 'lazy_init': TARGETS['lazy_init'], 'trace': TARGETS['trace'],
            'eager': TARGETS['eager'], 'compile': TARGETS['compile'], 'step': TARGETS['step'],
            'eqns': 1.0}
  for name, row in ratios(result, cpu).items():
    cells = [result['workloads'][name]['label']]
    for key, _ in cols:
      if key == 'same_hlo':
        cells.append({True: 'yes', False: '**no**'}.get(row.get(key), '—'))
        continue
      cells.append(_bold_if(row.get(key, math.nan), limits[key]))
      if has_ref and key != 'eqns':
        cells.append(_f(row.get(key + '_ref', math.nan)))
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def absolute_table(result: dict) -> str:
  impls = result['meta']['impls']
  head = ['workload', 'measure'] + impls
  lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(['---'] * len(head)) + ' |']
  rows = (('init', 's', 'eager init (jax: floor)'), ('lazy_init', 's', 'lazy_init (jax: create)'),
          ('eager', 's', 'eager apply, batch 1'), ('trace', 'trace', 'trace'),
          ('trace', 'lower', 'lower'), ('compile', 's', 'compile'), ('step', 's', 'step'))
  for w in result['workloads'].values():
    for key, metric, title in rows:
      if w.get(key) is None:
        continue
      cells = [w['label'], title]
      for impl in impls:
        entry = w[key].get(impl, {})
        cells.append('error' if 'error' in entry else _ms(med(w[key], impl, metric)))
      lines.append('| ' + ' | '.join(cells) + ' |')
    eq = w.get('eqns') or {}
    cells = [w['label'], 'jaxpr eqns (total / top)']
    cells += [f"{eq[i]['total']} / {eq[i]['top']}" if i in eq else '—' for i in impls]
    lines.append('| ' + ' | '.join(cells) + ' |')
    for what, err in w.get('errors', {}).items():
      lines.append(f'| {w["label"]} | {what} | {err} |' + ' |' * (len(impls) - 1))
  return '\n'.join(lines)


def cold_table(result: dict) -> str:
  impls = result['meta']['impls']
  head = ['workload', 'first call'] + impls + ['peak RSS Δ ' + i for i in impls]
  lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(['---'] * len(head)) + ' |']
  titles = {'init': 'init (jax: floor)', 'create': 'lazy_init (jax: create)'}
  for name, c in result.get('cold', {}).items():
    label = result['workloads'].get(name, {}).get('label', name)
    for what, per in c.items():
      cells = [label, titles[what]]
      cells += [_ms(med(per, i, 'first_call')) for i in impls]
      cells += [f"{_f(med(per, i, 'peak_delta_mb'), 0)} MB" for i in impls]
      lines.append('| ' + ' | '.join(cells) + ' |')
  imp = {i: [] for i in impls}
  for c in result.get('cold', {}).values():
    for per in c.values():
      for i in impls:
        imp[i].append(med(per, i, 'import_lib'))
  lines.append('')
  lines.append('import time of the library (median over the cold runs): ' + ', '.join(
    f'{i} {_ms(sorted(v)[len(v) // 2]) if v else "—"}' for i, v in imp.items() if i != 'jax'))
  return '\n'.join(lines)


def serial_table(result: dict) -> str:
  s = result.get('serialization')
  if not s:
    return ''
  impls = [i for i in result['meta']['impls'] if i != 'jax']
  head = ['tree', 'op'] + [f'{i}' for i in impls]
  if 'flax' in impls:
    head.append('flaxen ÷ flax')
  lines = ['| ' + ' | '.join(head) + ' |', '| ' + ' | '.join(['---'] * len(head)) + ' |']
  for label, entry in s.items():
    title = (f"{entry['nbytes'] / 1e6:.0f} MB, {entry['leaves']} leaves" if label == 'big'
             else f"{entry['leaves']} small arrays")
    for op in ('to_bytes', 'from_bytes'):
      cells = [title, op]
      for i in impls:
        m = entry.get(i, {}).get(op)
        if m is None:
          cells.append('error')
        elif label == 'big':
          cells.append(f"{m['GB/s']:.2f} GB/s")
        else:
          cells.append(f"{m['us_per_leaf']:.2f} µs/leaf")
      if 'flax' in impls:
        a = entry.get('flaxen', {}).get(op, {}).get('median', math.nan)
        b = entry.get('flax', {}).get(op, {}).get('median', math.nan)
        cells.append(_f(ratio(a, b)))
      lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def targets(result: dict, cpu: bool = False) -> list[str]:
  """One line per issue-11 target: met or missed in this run, with the worst ratio."""
  rows = ratios(result, cpu)
  first = 'first_call_cpu' if cpu else 'first_call'
  out = []

  def check(title, key, limit):
    vals = {n: r.get(key, math.nan) for n, r in rows.items()}
    vals = {n: v for n, v in vals.items() if not math.isnan(v)}
    if not vals:
      return
    worst = max(vals, key=vals.get)
    ok = vals[worst] <= limit
    out.append(f"{'met   ' if ok else 'MISSED'} {title} <= {limit}: worst {vals[worst]:.2f} "
               f"({result['workloads'][worst]['label']})")

  check('eager apply / pure JAX', 'eager', TARGETS['eager'])
  check('eager init / floor', 'init', TARGETS['init'])
  check('lazy_init (warm) / pure create', 'lazy_init', TARGETS['lazy_init'])
  check('trace+lower / pure JAX', 'trace', TARGETS['trace'])
  check('compile / pure JAX', 'compile', TARGETS['compile'])
  check('compiled step / pure JAX', 'step', TARGETS['step'])
  check('jaxpr equations / pure JAX', 'eqns', 1.0)
  for name, c in result.get('cold', {}).items():
    per = c.get('create', {})
    r = ratio(med(per, 'flaxen', first), med(per, 'jax', first))
    m = ratio(med(per, 'flaxen', 'peak_delta_mb'), med(per, 'jax', 'peak_delta_mb'))
    label = result['workloads'].get(name, {}).get('label', name)
    if not math.isnan(r):
      ok = r <= TARGETS['cold_lazy']
      out.append(f"{'met   ' if ok else 'MISSED'} cold lazy_init / pure create <= "
                 f"{TARGETS['cold_lazy']}: {r:.2f} ({label})")
    if not math.isnan(m):
      ok = m <= TARGETS['cold_rss']
      out.append(f"{'met   ' if ok else 'MISSED'} cold lazy_init peak RSS / pure <= "
                 f"{TARGETS['cold_rss']}: {m:.2f} ({label})")
  small = (result.get('serialization') or {}).get('small', {})
  for op in ('to_bytes', 'from_bytes') if not cpu else ():
    a = small.get('flaxen', {}).get(op, {}).get('median', math.nan)
    b = small.get('flax', {}).get(op, {}).get('median', math.nan)
    r = ratio(a, b)
    if not math.isnan(r):
      ok = r <= TARGETS['per_leaf_vs_ref']
      out.append(f"{'met   ' if ok else 'MISSED'} {op} per leaf / reference <= "
                 f"{TARGETS['per_leaf_vs_ref']}: {r:.2f}")
  return out


def render(result: dict) -> str:
  meta = result['meta']
  parts = [
    f"## Overhead benchmark ({meta['mode']}) — {meta['date']}",
    f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores, {meta['machine']['backend']}; "
    f"jax {meta['jax']}, flaxen {meta['flaxen']}, flax {meta['flax'] or '(not installed)'}; "
    f"python {meta['python']}; load average {meta['load_before']} before, "
    f"{meta.get('load_after', '?')} after; wall {meta.get('wall_s', 0):.0f} s.",
    '', '### Ratios (flaxen ÷ pure JAX; "÷ ref": flaxen ÷ flax; bold: misses the target)', '',
    ratio_table(result), '',
    '### The same ratios in process CPU time (steadier when the machine is shared)', '',
    ratio_table(result, cpu=True), '', '### Absolute figures (medians, wall clock)', '',
    absolute_table(result),
  ]
  if result.get('cold'):
    parts += ['', '### Cold: first call in a fresh process', '', cold_table(result)]
  if result.get('serialization'):
    parts += ['', '### Serialization', '', serial_table(result)]
  parts += ['', '### Targets of issue 11 in this run (wall clock)', '', '```', *targets(result),
            '```', '', '(the same in process CPU time)', '', '```', *targets(result, True), '```']
  return '\n'.join(parts)
