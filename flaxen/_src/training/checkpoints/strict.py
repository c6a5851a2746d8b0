"""Exhaustive comparison of a target with a restored state dict (``strict=True``).

Both sides are compared as state dicts (``to_state_dict(target)`` versus the
decoded checkpoint), walked in parallel. Paths are the ``/``-joined keys. Every
leaf has a *kind*:

* ``array``: something with a shape and a dtype and at least one dimension;
* ``scalar``: a 0-d array, a numpy scalar or a Python number (``bool``, ``int``,
  ``float``, ``complex``). A ``TrainState.step`` saved as a jax array after a
  jitted step and restored into a fresh state whose step is ``0`` is fine;
* ``None``, ``str``, ``bytes``, or any other type by name.

Leaves of different kinds are a *kind* mismatch (a saved ``None``, string or
number where the target holds an array, the reverse, a sub-tree against a
leaf); two arrays must agree in shape and dtype. Empty containers count as
sub-trees; Orbax stores them as ``None``, so for Orbax checkpoints
(``empty_is_none``) a saved ``None`` matches an empty sub-tree of the target.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from flaxen._src.errors.checkpoint import CheckpointMismatchError
from flaxen._src.public import set_module
from flaxen._src.serialization.state_dict import to_state_dict


def _kind(x: Any) -> str:
  if isinstance(x, Mapping):
    return 'tree'
  if hasattr(x, 'shape') and hasattr(x, 'dtype'):
    return 'array' if np.ndim(x) else 'scalar'
  if isinstance(x, numbers.Number):
    return 'scalar'
  if x is None:
    return 'None'
  return type(x).__name__


def _describe(x: Any, kind: str) -> str:
  if kind == 'tree':
    return 'a sub-tree'
  if kind == 'array':
    return f'an array {np.dtype(x.dtype).name}{list(np.shape(x))}'
  if kind == 'scalar':
    return f'a scalar {x!r}' if isinstance(x, numbers.Number) else f'a scalar {np.dtype(x.dtype).name}'
  return 'None' if x is None else f'a leaf of type {kind}'


@set_module('flaxen.training.checkpoints')
def compare_state(target: Any, state: Any, empty_is_none: bool = False) -> dict[str, list]:
  """Lists every difference between ``target`` and the state dict ``state``.

  Args:
    target: the object to restore into.
    state: a restored state dict.
    empty_is_none: a ``None`` in ``state`` matches an empty sub-tree of the
      target (how Orbax stores empty containers such as ``optax.EmptyState``).

  Returns:
    ``{'missing': [...], 'unexpected': [...], 'shape': [...], 'dtype': [...],
    'kind': [...]}`` (all lists empty when they match).
  """
  report: dict[str, list] = {k: [] for k in ('missing', 'unexpected', 'shape', 'dtype', 'kind')}
  stack = [('', to_state_dict(target), state)]
  while stack:
    path, want, got = stack.pop()
    want_kind, got_kind = _kind(want), _kind(got)
    if empty_is_none and want_kind == 'tree' and not want and got is None:
      continue
    if want_kind == got_kind == 'tree':
      for key in want:
        if key in got:
          stack.append((f'{path}/{key}', want[key], got[key]))
        else:
          report['missing'].append(f'{path}/{key}')
      report['unexpected'].extend(f'{path}/{key}' for key in got if key not in want)
      continue
    where = path or '/'
    if want_kind != got_kind:
      report['kind'].append((where, _describe(want, want_kind), _describe(got, got_kind)))
    elif want_kind == 'array':
      if tuple(np.shape(want)) != tuple(np.shape(got)):
        report['shape'].append((where, tuple(np.shape(want)), tuple(np.shape(got))))
      if np.dtype(want.dtype) != np.dtype(got.dtype):
        report['dtype'].append((where, np.dtype(want.dtype).name, np.dtype(got.dtype).name))
  for entries in report.values():
    entries.sort(key=lambda e: e if isinstance(e, str) else e[0])
  return report


def verify_state(target: Any, state: Any, path: str, empty_is_none: bool = False) -> None:
  """Raises ``CheckpointMismatchError`` listing every difference, if there is any."""
  r = compare_state(target, state, empty_is_none)
  if any(r.values()):
    raise CheckpointMismatchError(path, r['missing'], r['unexpected'], r['shape'], r['dtype'],
                                  r['kind'])
