"""Hiding flaxen's own frames from user tracebacks (``flaxen.traceback_util``).

JAX filters the tracebacks of exceptions that cross its API boundaries,
dropping frames whose file lies under a registered exclusion path, and skips
the same paths when it records the user source location of each operation.
flaxen registers its package directory with both when
``config.flax_filter_frames`` is on (the default), so users see their own code
and JAX's summary, not library internals. ``show_flax_in_tracebacks()`` undoes
the traceback part (handy when debugging flaxen itself); as in the reference,
source-location exclusions stay.

Invariants:
  * filtering is on or off as a whole: ``hide_flax_in_tracebacks`` /
    ``show_flax_in_tracebacks`` switch it and re-apply every path registered so
    far; ``register_exclusion`` records a path and applies it only while on;
  * each path appears at most once in JAX's list, however often it is hidden.

JAX's hooks are private (``jax._src.traceback_util``); if a JAX version lacks
them, everything here degrades to a no-op and tracebacks are simply unfiltered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from flaxen._src.config import config
from flaxen._src.public import set_module

# the modules, or None where this JAX lacks them
_jax_tb: Any
_source_info: Any
try:  # private JAX API: keep optional
  from jax._src import traceback_util as _jax_tb
except ImportError:  # pragma: no cover - depends on the JAX version
  _jax_tb = None
try:
  from jax.extend import source_info_util as _source_info
except ImportError:  # pragma: no cover - depends on the JAX version
  _source_info = None

F = TypeVar('F', bound=Callable)
_PUBLIC = 'flaxen.traceback_util'

# the flaxen package directory (…/flaxen), which holds every library frame
FLAXEN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_exclusions: set[str] = set()
_state = {'filtering': bool(config.flax_filter_frames)}


def _jax_paths() -> list[str] | None:
  paths = getattr(_jax_tb, '_exclude_paths', None)
  return paths if isinstance(paths, list) else None


def _hide(path: str) -> None:
  paths = _jax_paths()
  if paths is not None:
    if path not in paths:
      paths.append(path)
  elif _jax_tb is not None and hasattr(_jax_tb, 'register_exclusion'):
    _jax_tb.register_exclusion(path)


@set_module(_PUBLIC)
def register_exclusion(path: str) -> None:
  """Hides frames from files under ``path`` in tracebacks (while filtering is on).

  Args:
    path: a file or directory prefix, e.g. a library's package directory.
  """
  _exclusions.add(path)
  if not _state['filtering']:
    return
  _hide(path)
  if _source_info is not None:
    _source_info.register_exclusion(path)


@set_module(_PUBLIC)
def hide_flax_in_tracebacks() -> None:
  """Hides flaxen-internal frames from tracebacks filtered by JAX."""
  _state['filtering'] = True
  for path in _exclusions:
    _hide(path)


@set_module(_PUBLIC)
def show_flax_in_tracebacks() -> None:
  """Shows flaxen-internal frames in tracebacks again."""
  _state['filtering'] = False
  paths = _jax_paths()
  if paths is None:
    return
  for path in _exclusions:
    while path in paths:
      paths.remove(path)


def is_hidden() -> bool:
  """Whether flaxen's directory is currently registered with JAX's filter."""
  paths = _jax_paths()
  return paths is not None and FLAXEN_DIR in paths


def _unmarked(fn: F) -> F:
  """Stand-in for JAX's ``api_boundary`` when a JAX version lacks it."""
  return fn


# JAX's own decorator (as the reference re-exports it): marks a public entry point whose
# tracebacks JAX may filter
api_boundary: Callable[[F], F] = getattr(_jax_tb, 'api_boundary', None) or _unmarked

register_exclusion(FLAXEN_DIR)
