"""Snapshots and replays of RNG counters, for transforms that may skip re-tracing.

A scope's ``rng_counters`` is a nested dict: ``{stream: int}`` plus, for each
child, ``{(CHILD, name): <the child's counters>}``. A traced function advances
them as a Python side effect. When ``jit`` reuses a compiled trace that effect
does not happen, so ``jit`` records the advance made by the trace (``delta``)
and replays it (``apply_delta``) on every cached call: counters then move by
the same amounts whether or not the call traced (golden RNG rule 8).
"""

from __future__ import annotations

from typing import Any


def snapshot(counters: dict) -> dict:
  """A deep copy of nested counters (dicts and ints only)."""
  return {k: snapshot(v) if isinstance(v, dict) else v for k, v in counters.items()}


def delta(after: dict, before: dict) -> dict:
  """``after - before`` (only the non-zero entries)."""
  out: dict[Any, Any] = {}
  for k, v in after.items():
    prev = before.get(k)
    if isinstance(v, dict):
      d = delta(v, prev if isinstance(prev, dict) else {})
      if d:
        out[k] = d
    else:
      d = v - (prev or 0)
      if d:
        out[k] = d
  return out


def apply_delta(counters: dict, d: dict) -> None:
  """Adds ``d`` to ``counters`` in place (creating missing child dicts)."""
  for k, v in d.items():
    if isinstance(v, dict):
      child = counters.get(k)
      if child is None:
        child = counters[k] = {}
      apply_delta(child, v)
    else:
      counters[k] = counters.get(k, 0) + v


def freeze(counters: dict) -> tuple:
  """A hashable, order-independent copy of nested counters."""
  items = [(k, freeze(v) if isinstance(v, dict) else v) for k, v in counters.items()]
  items.sort(key=lambda kv: repr(kv[0]))
  return tuple(items)
