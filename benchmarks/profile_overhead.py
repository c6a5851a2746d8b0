"""Where the time of one overhead measure goes: cProfile of a warm workload, by function and file.

Runs one measure of ``benchmarks/overhead.py`` (after a warm-up call) under
``cProfile`` for ``--repeats`` calls and prints

* the functions with the most *own* time (tottime) and the most *cumulative*
  time, each with calls per measured call and microseconds per call;
* the own time summed per source file (flaxen / flax / jax / numpy / other),
  so the library's share is visible at a glance;
* optionally (``--callers NAME``) who calls the functions whose name contains NAME.

The profiler's clock is process CPU time by default (``--timer wall`` for the
wall clock): on a shared machine, waiting for a core would otherwise be charged
to whichever function happened to be running.

Examples::

  python benchmarks/profile_overhead.py tf6 eager flaxen
  python benchmarks/profile_overhead.py tiny_mlp init flaxen --repeats 200
  python benchmarks/profile_overhead.py tf12_scan trace flaxen --quick --callers fold_in
  /path/to/flax-venv/bin/python benchmarks/profile_overhead.py tf6 eager flax

Measures: init, lazy_init, eager, trace (trace of the jitted train step; a fresh
function each call). Implementations: jax, flaxen, flax.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import importlib
import os
import pstats
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:0] = [p for p in (_ROOT, _HERE) if p not in sys.path[:2]]

import jax  # noqa: E402
from _overhead import workloads  # noqa: E402


def _measure_fn(impl, spec, measure: str):
  x1 = workloads.example(spec, 1)
  if measure == 'init':
    return lambda: impl.init(x1)
  if measure == 'lazy_init':
    return lambda: impl.create(x1)
  if measure == 'eager':
    variables = impl.init(x1)
    variables = variables[0] if impl.module is None else variables
    return lambda: impl.eager(variables, x1)
  if measure == 'trace':
    v = workloads.implementations(spec, {})['jax'].create(x1)
    args = (v, workloads.example(spec, spec.batch), workloads.targets(spec, spec.batch),
            workloads.DROPOUT_KEY)
    return lambda: jax.jit(impl.step()).trace(*args)
  raise SystemExit(f'unknown measure {measure!r}')


def _area(filename: str) -> str:
  for key in ('flaxen', 'flax', 'jax', 'jaxlib', 'numpy', '_overhead'):
    if f'/{key}/' in filename:
      return key
  return 'python' if filename.startswith('~') or '/lib/python' in filename else 'other'


def _short(func) -> str:
  filename, line, name = func
  parts = filename.split('/')
  for i, p in enumerate(parts):
    if p in ('flaxen', 'flax', 'jax', 'numpy', '_overhead'):
      filename = '/'.join(parts[i:])
      break
  else:
    filename = parts[-1]
  return f'{filename}:{line}({name})'


def report(stats: pstats.Stats, calls: int, top: int, callers: str | None) -> None:
  raw = stats.stats  # {func: (primitive calls, total calls, tottime, cumtime, callers)}
  total = sum(v[2] for v in raw.values())
  print(f'total profiled time {total * 1e3:.1f} ms over {calls} calls '
        f'= {total / calls * 1e3:.3f} ms per call (profiler overhead included)\n')
  by_area = collections.Counter()
  by_file = collections.Counter()
  for func, v in raw.items():
    by_area[_area(func[0])] += v[2]
    by_file[_short((func[0], 0, ''))[:-4]] += v[2]
  print('own time per area:  ' + ', '.join(
    f'{a} {t / total:.0%}' for a, t in by_area.most_common()))
  print('\nown time per file (top):')
  for f, t in by_file.most_common(top):
    print(f'  {t / calls * 1e6:9.1f} us/call {t / total:6.1%}  {f}')
  for key, title in ((2, 'own time (tottime)'), (3, 'cumulative time')):
    print(f'\ntop functions by {title}:')
    print(f"  {'us/call':>9s} {'share':>6s} {'calls/call':>10s}  function")
    for func, v in sorted(raw.items(), key=lambda kv: -kv[1][key])[:top]:
      print(f'  {v[key] / calls * 1e6:9.1f} {v[key] / total:6.1%} {v[1] / calls:10.1f}  '
            f'{_short(func)}')
  if callers:
    print(f'\ncallers of functions matching {callers!r}:')
    for func, v in raw.items():
      if callers in func[2]:
        print(f'  {_short(func)}: {v[1] / calls:.1f} calls/call')
        for caller, cv in sorted(v[4].items(), key=lambda kv: -kv[1][3])[:8]:
          print(f'      {cv[1] / calls:6.1f} calls/call {cv[3] / calls * 1e6:9.1f} us/call  '
                f'from {_short(caller)}')


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('workload')
  parser.add_argument('measure', choices=('init', 'lazy_init', 'eager', 'trace'))
  parser.add_argument('impl', choices=('jax', 'flaxen', 'flax'))
  parser.add_argument('--quick', action='store_true', help='the --quick sizes (12-layer deep)')
  parser.add_argument('--repeats', type=int, default=20)
  parser.add_argument('--top', type=int, default=25)
  parser.add_argument('--callers', default=None)
  parser.add_argument('--save', default=None, help='write the raw pstats here')
  parser.add_argument('--timer', choices=('cpu', 'wall'), default='cpu',
                      help='clock of the profiler: process CPU time (default; robust on a shared '
                           'machine) or wall clock')
  args = parser.parse_args(argv)
  specs = {s.name: s for s in workloads.specs(args.quick)}
  if args.workload not in specs:
    parser.error(f'unknown workload; choose from {sorted(specs)}')
  spec = specs[args.workload]
  libs = {} if args.impl == 'jax' else {args.impl: importlib.import_module(f'{args.impl}.linen')}
  impl = workloads.implementations(spec, libs)[args.impl]
  fn = _measure_fn(impl, spec, args.measure)
  jax.block_until_ready(fn())  # warm-up
  prof = cProfile.Profile(time.process_time if args.timer == 'cpu' else time.perf_counter)
  prof.enable()
  for _ in range(args.repeats):
    jax.block_until_ready(fn())
  prof.disable()
  if args.save:
    prof.dump_stats(args.save)
  report(pstats.Stats(prof), args.repeats, args.top, args.callers)


if __name__ == '__main__':
  main()
