"""Cold first calls: each in a fresh interpreter, with its peak memory.

The parent starts ``python overhead.py --cold-child WORKLOAD IMPL WHAT`` once
per (implementation, repeat), round-robin like the warm measures. The child
imports jax and the library (timed separately), builds the inputs from numpy
(so no random-number kernel is compiled before the clock starts), resets the
kernel's peak-RSS mark, and times the first ``init`` (WHAT=init; pure JAX: the
floor) or ``lazy_init`` (WHAT=create; pure JAX: param creation alone). It prints
one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def child(script: str, spec_name: str, impl: str, what: str, quick: bool) -> None:
  """Runs inside the fresh interpreter (called by ``overhead.py --cold-child``)."""
  t0 = time.perf_counter()
  import jax  # noqa: F401  (timed: what every script pays first)
  t_jax = time.perf_counter() - t0
  import numpy as np

  from . import timing, workloads
  libs = {}
  t0 = time.perf_counter()
  if impl == 'flaxen':
    import flaxen.linen as libs_nn
    libs['flaxen'] = libs_nn
  elif impl == 'flax':
    import flax.linen as libs_nn
    libs['flax'] = libs_nn
  t_lib = time.perf_counter() - t0
  spec = {s.name: s for s in workloads.specs(quick)}[spec_name]
  the = workloads.implementations(spec, libs)[impl]
  dtype = np.int32 if spec.tokens else np.float32
  x = jax.numpy.asarray(np.ones((1, *spec.shape), dtype))
  jax.block_until_ready(x)
  rss0 = timing.rss_mb()
  exact = timing.reset_peak_rss()
  fn = the.init if what == 'init' else the.create
  seconds, _ = timing.clocks(lambda: fn(x))
  peak = timing.peak_rss_mb()
  print(json.dumps({'import_jax': t_jax, 'import_lib': t_lib, 'first_call': seconds['s'],
                    'first_call_cpu': seconds['cpu'],
                    'rss_before_mb': rss0, 'peak_rss_mb': peak, 'peak_exact': exact}))


def run(script: str, spec_name: str, impls: list[str], whats: list[str], repeats: int,
        quick: bool, log) -> dict:
  """``{what: {impl: {metric: {'median', 'runs'}}}}`` over ``repeats`` fresh processes each."""
  from . import timing

  env = dict(os.environ)
  tasks = {}
  for what in whats:
    for impl in impls:
      cmd = [sys.executable, script, '--cold-child', spec_name, impl, what]
      if quick:
        cmd.append('--quick')
      tasks[f'{what}/{impl}'] = _runner(cmd, env)
  t0 = time.perf_counter()
  raw = timing.interleaved(tasks, repeats)
  log(f'cold {spec_name}: {len(tasks)} x {repeats} processes in {time.perf_counter() - t0:.1f}s')
  out: dict = {}
  for key, metrics in raw.items():
    what, impl = key.split('/')
    if 'error' in metrics:
      out.setdefault(what, {})[impl] = {'error': metrics['error']}
      continue
    summary = {m: {'median': timing.median(v), 'runs': v} for m, v in metrics.items()}
    summary['peak_delta_mb'] = {'median': timing.median(
      [p - r for p, r in zip(metrics['peak_rss_mb'], metrics['rss_before_mb'])])}
    out.setdefault(what, {})[impl] = summary
  return out


def _runner(cmd: list[str], env: dict):
  def task():
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
      tail = (proc.stderr.strip().splitlines() or ['?'])[-1]
      raise RuntimeError(f'child failed ({proc.returncode}): {tail}')
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    got['peak_exact'] = float(got['peak_exact'])
    return got
  return task
