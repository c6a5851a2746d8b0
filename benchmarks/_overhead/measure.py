"""The warm measurements of one workload, every implementation side by side.

Order per workload: *verify* (each implementation's ``init`` once; params must
equal the pure-JAX ones bit for bit and the forward outputs must match: an
``AssertionError`` otherwise), then interleaved timings of eager ``init``,
``lazy_init`` (vs pure-JAX param creation), the eager batch-1 call, trace and
lower of the jitted train step (with jaxpr sizes), compile, and the compiled
step (losses of all implementations must agree).
"""

from __future__ import annotations

import dataclasses
import re
import time

import jax
import numpy as np

from . import timing, workloads


@dataclasses.dataclass(frozen=True)
class Budget:
  """Repeat counts and per-measure time budgets (seconds)."""

  budget: float
  lo: int
  hi: int
  steps: int
  compile_repeats: int
  compile_big: bool  # compile + step the workloads marked ``big``


QUICK = Budget(budget=2.0, lo=2, hi=15, steps=5, compile_repeats=3, compile_big=False)
FULL = Budget(budget=8.0, lo=5, hi=41, steps=10, compile_repeats=5, compile_big=True)


def assert_same_tree(got, want, what: str) -> None:
  """Same tree structure and bitwise-equal leaves, or an ``AssertionError`` naming the leaf."""
  gs, ws = jax.tree_util.tree_structure(got), jax.tree_util.tree_structure(want)
  assert gs == ws, f'{what}: tree structures differ:\n{gs}\n{ws}'
  pairs = zip(jax.tree_util.tree_leaves_with_path(got), jax.tree_util.tree_leaves(want))
  for (path, a), b in pairs:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (
      f'{what}: {jax.tree_util.keystr(path)} is {a.dtype}{a.shape}, expected {b.dtype}{b.shape}')
    assert np.array_equal(a, b), f'{what}: {jax.tree_util.keystr(path)} differs bitwise'


def _close(a, b, what: str, rtol=1e-5, atol=1e-6) -> None:
  a, b = np.asarray(a), np.asarray(b)
  err = float(np.max(np.abs(a - b))) if a.size else 0.0
  assert np.allclose(a, b, rtol=rtol, atol=atol), f'{what}: outputs differ (max abs {err:g})'


def _summ(results: dict) -> dict:
  """``{impl: {metric: {'median': s, 'runs': [...]}} | {'error': ...}}``."""
  out = {}
  for impl, metrics in results.items():
    if 'error' in metrics:
      out[impl] = {'error': metrics['error']}
      continue
    out[impl] = {m: {'median': timing.median(v), 'runs': v} for m, v in metrics.items()}
  return out


def _timed(budget: Budget, tasks: dict, log, metric: str | None = None) -> dict:
  t0 = time.perf_counter()
  res = timing.adaptive(tasks, budget.budget, budget.lo, budget.hi, metric)
  n = max((len(v) for m in res.values() for v in m.values() if isinstance(v, list)), default=0)
  log(f'{n} repeats in {time.perf_counter() - t0:.1f}s')
  return _summ(res)


def _hlo_text(lowered) -> str:
  text = lowered.as_text(debug_info=False)
  return re.sub(r'module @\S+', 'module', text, count=1)


def _as_seconds(fn):
  return lambda: timing.clocks(fn)[0]


def run_workload(spec: workloads.Spec, libs: dict, budget: Budget, log) -> tuple[dict, dict]:
  """All warm measurements of ``spec``; returns ``(results, variables of each impl)``."""
  with timing.frozen_gc():
    return _run_workload(spec, libs, budget, log)


def _run_workload(spec, libs, budget, log):
  impls = workloads.implementations(spec, libs)
  x1 = workloads.example(spec, 1)
  res: dict = {'label': spec.label, 'batch': spec.batch, 'errors': {}}

  # ---- verify (and warm up): params bit for bit, outputs, lazy_init params
  variables, outputs = {}, {}
  for name, impl in impls.items():
    got = impl.init(x1)
    if name == 'jax':
      variables[name], outputs[name] = got
    else:
      variables[name], outputs[name] = got, impl.eager(got, x1)
  impls['jax'].eager(variables['jax'], x1)
  for name in impls:
    assert_same_tree(variables[name], variables['jax'], f'{spec.name}: {name} init vs pure JAX')
    _close(outputs[name], outputs['jax'], f'{spec.name}: {name} init forward vs pure JAX')
  for name, impl in impls.items():
    try:
      got = impl.create(x1)
    except Exception as e:  # a library failure is a result: record it, measure the others
      res['errors'][f'lazy_init/{name}'] = f'{type(e).__name__}: {str(e).splitlines()[0][:200]}'
      continue
    assert_same_tree(got, variables['jax'], f'{spec.name}: {name} lazy_init vs pure JAX')
  log(f'{spec.name}: verified (params bitwise equal, outputs match)')

  # ---- eager init, lazy init, eager batch-1 call
  res['init'] = _timed(budget, {n: _as_seconds(lambda i=i: i.init(x1)) for n, i in impls.items()},
                       log)
  create_tasks = {n: _as_seconds(lambda i=i: i.create(x1)) for n, i in impls.items()
                  if f'lazy_init/{n}' not in res['errors']}
  res['lazy_init'] = _timed(budget, create_tasks, log)
  res['eager'] = _timed(budget, {n: _as_seconds(lambda i=i, v=variables[n]: i.eager(v, x1))
                                 for n, i in impls.items()}, log)

  # ---- jitted train step: trace, lower, jaxpr size, compile, run
  x, y = workloads.example(spec, spec.batch), workloads.targets(spec, spec.batch)
  args = {n: (variables['jax'], x, y, workloads.DROPOUT_KEY) for n in impls}
  lowered, traced = {}, {}

  def trace_task(name):
    def task():
      fn = jax.jit(impls[name].step())
      c0, t0 = time.process_time(), time.perf_counter()
      tr = fn.trace(*args[name])
      c1, t1 = time.process_time(), time.perf_counter()
      lo = tr.lower()
      c2, t2 = time.process_time(), time.perf_counter()
      traced[name], lowered[name] = tr, lo
      return {'trace': t1 - t0, 'lower': t2 - t1, 'trace_lower': t2 - t0,
              'trace_cpu': c1 - c0, 'trace_lower_cpu': c2 - c0}
    return task

  for name in impls:
    trace_task(name)()  # warm-up: the library's own caches, jax's primitive rules
  res['trace'] = _timed(budget, {n: trace_task(n) for n in impls}, log, 'trace_lower')
  res['eqns'] = {n: dict(zip(('top', 'total'), timing.count_eqns(traced[n].jaxpr)))
                 for n in impls}
  # Same StableHLO (debug info aside) => compile and step differences are noise.
  hlo = {n: _hlo_text(lowered[n]) for n in impls}
  res['same_hlo'] = {n: hlo[n] == hlo['jax'] for n in impls}

  if spec.big and not budget.compile_big:
    log(f'{spec.name}: compile/step skipped (--quick; run the full mode for them)')
    res['compile'] = res['step'] = None
    return res, variables

  def compile_task(name):
    def task():
      lo = jax.jit(impls[name].step()).trace(*args[name]).lower()
      seconds, exe = timing.clocks(lo.compile)
      compiled[name] = exe
      return seconds
    return task

  compiled: dict = {}
  t0 = time.perf_counter()
  res['compile'] = _summ(timing.adaptive({n: compile_task(n) for n in impls}, 2 * budget.budget,
                                         1, budget.compile_repeats))
  log(f'{spec.name}: compiled in {time.perf_counter() - t0:.1f}s')
  losses = {name: exe(*args[name])[1] for name, exe in compiled.items()}
  for name in compiled:
    _close(losses[name], losses['jax'], f'{spec.name}: {name} train-step loss vs pure JAX',
           rtol=1e-4)
  res['loss'] = {n: float(v) for n, v in losses.items()}
  res['step'] = _summ(timing.adaptive(
    {n: _as_seconds(lambda e=e, a=args[n]: e(*a)) for n, e in compiled.items()},
    2 * budget.budget, budget.steps, 50))
  return res, variables
