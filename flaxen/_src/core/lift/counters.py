"""Snapshots, hashable copies and replays of RNG counters (used by ``jit``).

A scope's ``rng_counters`` is a nested dict: ``{stream: int}`` plus, for each
child, ``{(CHILD, name): <the child's counters>}``. A traced function advances
them as a Python side effect, and the keys it draws hash the counter values it
saw. So ``jit`` puts ``freeze(counters)`` into its cache key (a call starting
from other counters is traced again), records the advance made by a trace
(``delta``) and replays it (``apply_delta``) when a later call with the same
starting counters reuses the compiled function: counters then move by the same
amounts whether or not the call traced (golden RNG rule 8).
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
