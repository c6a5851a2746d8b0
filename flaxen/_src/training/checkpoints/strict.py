"""Exhaustive comparison of a target with a restored state dict (``strict=True``).

Both sides are compared as state dicts (``to_state_dict(target)`` versus the
decoded file), walked in parallel. Paths are the ``/``-joined keys. A leaf is
compared by shape and dtype when both sides are arrays or numpy scalars; Python
scalars, strings and ``None`` only need to be leaves on both sides (their
values are data, not structure). Empty containers count as sub-trees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flaxen._src.public import set_module
from flaxen._src.serialization.state_dict import to_state_dict
from flaxen._src.errors.checkpoint import CheckpointMismatchError


def _is_tree(x: Any) -> bool:
  return isinstance(x, Mapping)


def _array_like(x: Any) -> bool:
  return hasattr(x, 'shape') and hasattr(x, 'dtype')


def _describe(x: Any) -> str:
  if _is_tree(x):
    return 'a sub-tree'
  if _array_like(x):
    return f'an array {np.dtype(x.dtype).name}{list(np.shape(x))}'
  return f'a leaf of type {type(x).__name__}'


@set_module('flaxen.training.checkpoints')
def compare_state(target: Any, state: Any) -> dict[str, list]:
  """Lists every difference between ``target`` and the state dict ``state``.

  Returns:
    ``{'missing': [...], 'unexpected': [...], 'shape': [...], 'dtype': [...],
    'kind': [...]}`` (all lists empty when they match).
  """
  report: dict[str, list] = {k: [] for k in ('missing', 'unexpected', 'shape', 'dtype', 'kind')}
  stack = [('', to_state_dict(target), state)]
  while stack:
    path, want, got = stack.pop()
    if _is_tree(want) and _is_tree(got):
      for key in want:
        sub = f'{path}/{key}'
        if key in got:
          stack.append((sub, want[key], got[key]))
        else:
          report['missing'].append(sub)
      report['unexpected'].extend(f'{path}/{key}' for key in got if key not in want)
      continue
    where = path or '/'
    if _is_tree(want) or _is_tree(got):
      report['kind'].append((where, _describe(want), _describe(got)))
    elif _array_like(want) and _array_like(got):
      if tuple(np.shape(want)) != tuple(np.shape(got)):
        report['shape'].append((where, tuple(np.shape(want)), tuple(np.shape(got))))
      if np.dtype(want.dtype) != np.dtype(got.dtype):
        report['dtype'].append((where, np.dtype(want.dtype).name, np.dtype(got.dtype).name))
  for v in report.values():
    v.sort(key=lambda e: e if isinstance(e, str) else e[0])
  return report


def verify_state(target: Any, state: Any, path: str) -> None:
  """Raises ``CheckpointMismatchError`` listing every difference, if there is any."""
  r = compare_state(target, state)
  if any(r.values()):
    raise CheckpointMismatchError(path, r['missing'], r['unexpected'], r['shape'], r['dtype'], r['kind'])
