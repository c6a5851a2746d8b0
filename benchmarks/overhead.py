"""The overhead budget of issue 11: flaxen vs hand-written pure JAX (vs `flax` when installed).

Each workload is built three ways: flaxen, pure JAX (explicit params pytree,
the same initializers, PRNG keys and op order; the script asserts that its
params equal flaxen's bit for bit and that outputs match) and the reference
``flax`` when it is importable. Workloads: tiny MLP; MLP 4xDense(1024) (batch
128); the seeds' quickstart CNN (batch 128); a ResNet-18-style net at 32x32 with
BatchNorm (batch 128); 6- and 48-layer decoder-only Transformers (d 256, 4
heads, seq 128, vocab 8k, dropout, causal attention; batch 8), the 48-layer one
unrolled and with ``nn.scan``.

Measures (one interleaved run: round-robin, rotating order, medians):

* eager ``init`` vs the *floor* (pure JAX creating the params and running the
  same eager forward pass);
* ``lazy_init`` with ``jax.ShapeDtypeStruct`` inputs vs pure-JAX param creation
  alone: warm, and cold (first call in a fresh process, with peak RSS);
* trace and lower of the jitted train step (SGD, cross-entropy/MSE, dropout,
  BatchNorm statistics), jaxpr equation counts, compile, compiled step;
* the eager (un-jitted) call at batch 1;
* serialization: ``to_bytes``/``from_bytes`` GB/s on the 48-layer model's params
  (~169 MB) and the per-leaf cost on 5,000 small arrays.

It prints the absolute figures, the issue's ratio table (in wall-clock time and
in process CPU time, the steadier figure on a shared machine), whether the train
step lowers to the same StableHLO as pure JAX, which targets of the issue the run
meets, and writes JSON and Markdown to ``benchmarks/results/``. ``--quick``
(~3 minutes of CPU time: under 5 minutes on 2 idle cores; ~8 minutes wall at load
average 10) shrinks the train-step batches, the repeats and the deep Transformer
(12 layers instead of 48), runs the cold measure for ``lazy_init`` only, and skips
compiling the unrolled deep model (minutes on XLA:CPU at 48 layers).

Run it from either interpreter: the repository's venv (no ``flax``: reference
columns are left out) or one where ``flax`` is installed (this checkout's
``flaxen`` is put first on ``sys.path``)::

  .venv/bin/python benchmarks/overhead.py --quick
  /path/to/flax-venv/bin/python benchmarks/overhead.py            # full, with the reference
  python benchmarks/overhead.py --only tf6,tf48_scan --no-cold

Ratios move by up to ~30% between runs on a busy machine; compare only figures
from the same run.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_HERE, _ROOT):
  if _p in sys.path:
    sys.path.remove(_p)
sys.path[:0] = [_ROOT, _HERE]  # this checkout's flaxen wins over an installed one


def _cold_child(argv: list[str]) -> None:
  from _overhead import cold  # imports nothing heavy: the child times `import jax` itself

  i = argv.index('--cold-child')
  cold.child(__file__, argv[i + 1], argv[i + 2], argv[i + 3], '--quick' in argv)


if __name__ == '__main__' and '--cold-child' in sys.argv:
  _cold_child(sys.argv)
  raise SystemExit(0)

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
from _overhead import cold, measure, report, serial, timing, workloads  # noqa: E402


def _libs(no_ref: bool) -> dict:
  libs = {'flaxen': importlib.import_module('flaxen.linen')}
  if not no_ref:
    try:
      libs['flax'] = importlib.import_module('flax.linen')
    except ImportError:
      pass
  return libs


def _version(mod: str) -> str | None:
  try:
    return importlib.import_module(mod).__version__
  except (ImportError, AttributeError):
    return None


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--quick', action='store_true', help='the <5 minute run')
  parser.add_argument('--only', default='', help='comma-separated workload ids: ' + ', '.join(
    s.name for s in workloads.specs(False)))
  parser.add_argument('--no-ref', action='store_true', help='leave flax out even if installed')
  parser.add_argument('--no-cold', action='store_true', help='skip the fresh-process runs')
  parser.add_argument('--no-serialization', action='store_true')
  parser.add_argument('--cold-repeats', type=int, default=None,
                      help='fresh processes per (impl, measure) (default: quick 1, full 3)')
  parser.add_argument('--cold-all', action='store_true',
                      help='cold runs for every workload (default: the deep Transformer only)')
  parser.add_argument('--out', default=os.path.join(_HERE, 'results'),
                      help='directory for overhead-<mode>.json / .md')
  args = parser.parse_args(argv)

  started = time.perf_counter()
  mode = 'quick' if args.quick else 'full'
  budget = measure.QUICK if args.quick else measure.FULL
  libs = _libs(args.no_ref)
  specs = workloads.specs(args.quick)
  if args.only:
    wanted = set(args.only.split(','))
    unknown = wanted - {s.name for s in specs}
    if unknown:
      parser.error(f'unknown workloads {sorted(unknown)}')
    specs = [s for s in specs if s.name in wanted]

  def log(msg: str) -> None:
    print(f'[{time.perf_counter() - started:7.1f}s] {msg}', flush=True)

  meta = {
    'mode': mode, 'date': datetime.datetime.now().isoformat(timespec='seconds'),
    'argv': sys.argv[1:] if argv is None else list(argv), 'python': platform.python_version(),
    'jax': jax.__version__, 'jaxlib': _version('jaxlib'), 'flaxen': _version('flaxen'),
    'flax': _version('flax') if 'flax' in libs else None, 'machine': timing.machine(),
    'impls': ['jax', *libs], 'load_before': [round(x, 2) for x in os.getloadavg()],
  }
  log(f"{mode} run: impls {meta['impls']}, jax {meta['jax']}, load {meta['load_before']}")
  result = {'meta': meta, 'workloads': {}, 'cold': {}}
  for spec in specs:
    t0 = time.perf_counter()
    res, variables = measure.run_workload(spec, libs, budget, lambda m: log(f'  {m}'))
    result['workloads'][spec.name] = res
    del variables
    log(f'{spec.name}: done in {time.perf_counter() - t0:.1f}s')

  if not args.no_cold:
    deep = workloads.deep_spec(args.quick).name
    cold_names = [s.name for s in specs if args.cold_all or s.name == deep]
    repeats = args.cold_repeats or (1 if args.quick else 3)
    whats = ['create'] if args.quick else ['create', 'init']
    for name in cold_names:
      result['cold'][name] = cold.run(__file__, name, meta['impls'], whats, repeats, args.quick,
                                      log)

  if not args.no_serialization:
    sers = {n: importlib.import_module(f'{n}.serialization') for n in libs}
    result['serialization'] = serial.run(sers, workloads.serialization_params(), budget, log)

  meta['load_after'] = [round(x, 2) for x in os.getloadavg()]
  meta['wall_s'] = time.perf_counter() - started
  text = report.render(result)
  print()
  print(text)
  os.makedirs(args.out, exist_ok=True)
  suffix = mode + ('' if 'flax' in libs else '-noref')
  with open(os.path.join(args.out, f'overhead-{suffix}.json'), 'w') as f:
    json.dump(result, f, indent=1, sort_keys=True, default=str)
  with open(os.path.join(args.out, f'overhead-{suffix}.md'), 'w') as f:
    f.write(text + '\n')
  log(f'wrote {args.out}/overhead-{suffix}.json and .md')
  return result


if __name__ == '__main__':
  main()
