"""Clocks for the overhead benchmark: interleaved repeats, medians, memory, jaxpr sizes.

Everything that is compared is measured *interleaved*: repeat ``r`` runs every
implementation once, in an order rotated by ``r``, so slow drifts of a shared
machine (other processes, thermal state) hit all implementations alike. Each
figure is the median of its repeats.

As ``timeit`` does, the garbage collector is off during a timed call (and run
before it), so a full collection of the benchmark's own, unrelated objects never
lands in one implementation's figure; ``frozen_gc`` moves the objects alive at
the start of a workload out of the collector's reach, which keeps those
collections cheap.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import statistics
import time
from collections.abc import Callable

import jax


def clock(fn: Callable[[], object]) -> tuple[float, object]:
  """``(seconds, result)`` of one call, waiting for any arrays it returns."""
  t0 = time.perf_counter()
  out = fn()
  jax.block_until_ready(out)
  return time.perf_counter() - t0, out


def clocks(fn: Callable[[], object]) -> tuple[dict[str, float], object]:
  """``({'s': wall seconds, 'cpu': process CPU seconds}, result)`` of one call.

  CPU time counts every thread of this process and nothing of the others, so on
  a shared, oversubscribed machine it is the steadier figure for Python-bound work.
  """
  c0, t0 = time.process_time(), time.perf_counter()
  out = fn()
  jax.block_until_ready(out)
  return {'s': time.perf_counter() - t0, 'cpu': time.process_time() - c0}, out


def repeats_for(seconds: float, budget: float, lo: int, hi: int) -> int:
  """How many repeats fit ``budget`` seconds when one costs ``seconds`` (within [lo, hi])."""
  if seconds <= 0:
    return hi
  return max(lo, min(hi, int(budget / seconds)))


def interleaved(tasks: dict[str, Callable[[], dict[str, float]]], repeats: int,
                out: dict | None = None, start: int = 0) -> dict[str, dict[str, list[float]]]:
  """Runs ``repeats`` round-robin rounds of ``tasks``; each call returns named seconds.

  Returns ``{task: {metric: [seconds per repeat]}}`` (appending to ``out`` when
  given; round ``r`` starts with task ``r % len(tasks)``, counting from
  ``start``). A task that raises is dropped from later rounds and reported as
  ``{'error': message}``.
  """
  names = list(tasks)
  out = {n: {} for n in names} if out is None else out
  for r in range(start, start + repeats):
    k = r % len(names)
    for name in names[k:] + names[:k]:
      if 'error' in out[name]:
        continue
      gc.collect()
      gc.disable()
      try:
        got = tasks[name]()
      except Exception as e:  # a library failure is a result, not a crash
        out[name] = {'error': f'{type(e).__name__}: {str(e).splitlines()[0][:200]}'}
        continue
      finally:
        gc.enable()
      for metric, seconds in got.items():
        out[name].setdefault(metric, []).append(seconds)
  return out


def adaptive(tasks: dict[str, Callable[[], dict[str, float]]], budget: float, lo: int, hi: int,
             metric: str | None = None) -> dict[str, dict[str, list[float]]]:
  """``interleaved`` with the number of rounds chosen from a first, timed round.

  The slowest task of round one (its ``metric``, or the sum of its metrics) and
  ``budget`` seconds give the total number of rounds, within ``[lo, hi]``.
  """
  out = interleaved(tasks, 1)
  worst = 0.0
  for metrics in out.values():
    if 'error' not in metrics and metrics:
      worst = max(worst, metrics[metric or 's'][0])
  n = repeats_for(worst, budget, lo, hi)
  return interleaved(tasks, n - 1, out=out, start=1)


@contextlib.contextmanager
def frozen_gc():
  """Objects alive now are left alone by the collector until the block ends."""
  gc.collect()
  gc.freeze()
  try:
    yield
  finally:
    gc.unfreeze()


def median(xs: list[float]) -> float:
  return statistics.median(xs) if xs else float('nan')


# ----------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int | None:
  try:
    with open('/proc/self/status') as f:
      for line in f:
        if line.startswith(field + ':'):
          return int(line.split()[1])
  except OSError:
    return None
  return None


def reset_peak_rss() -> bool:
  """Resets the kernel's peak-RSS mark (Linux ``clear_refs``); False where unsupported."""
  try:
    with open('/proc/self/clear_refs', 'w') as f:
      f.write('5')
    return True
  except OSError:
    return False


def rss_mb() -> float:
  kb = _status_kb('VmRSS')
  return kb / 1024 if kb is not None else float('nan')


def peak_rss_mb() -> float:
  kb = _status_kb('VmHWM')
  if kb is None:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  return kb / 1024


# ----------------------------------------------------------------------------- jaxprs


def count_eqns(closed_jaxpr) -> tuple[int, int]:
  """``(top-level equations, equations including every nested jaxpr)``."""
  top = closed_jaxpr.jaxpr
  return len(top.eqns), _deep_count(top)


def _sub_jaxprs(value):
  if hasattr(value, 'eqns'):
    yield value
  elif hasattr(value, 'jaxpr') and hasattr(value.jaxpr, 'eqns'):
    yield value.jaxpr
  elif isinstance(value, tuple | list):
    for v in value:
      yield from _sub_jaxprs(v)


def _deep_count(jaxpr) -> int:
  n = 0
  for eqn in jaxpr.eqns:
    n += 1
    for value in eqn.params.values():
      for sub in _sub_jaxprs(value):
        n += _deep_count(sub)
  return n


def machine() -> dict:
  """Where the figures come from."""
  model = ''
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          model = line.split(':', 1)[1].strip()
          break
  except OSError:
    pass
  return {'cpu': model, 'cores': os.cpu_count(), 'backend': jax.default_backend(),
          'devices': [str(d) for d in jax.devices()]}
