"""Hiding flaxen's own frames from user tracebacks (``flaxen.traceback_util``).

JAX filters the tracebacks of exceptions that cross its API boundaries,
dropping frames whose file lies under a registered exclusion path. flaxen
registers its package directory there when ``config.flax_filter_frames`` is on
(the default), so users see their own code and JAX's summary, not library
internals. ``show_flax_in_tracebacks()`` undoes it (handy when debugging
flaxen itself).

JAX's hook is private (``jax._src.traceback_util``); if a JAX version lacks it,
everything here degrades to a no-op and tracebacks are simply unfiltered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from flaxen._src.config import config
from flaxen._src.public import set_module

try:  # private JAX API: keep optional
  from jax._src import traceback_util as _jax_tb
except ImportError:  # pragma: no cover - depends on the JAX version
  _jax_tb = None

F = TypeVar('F', bound=Callable)

# the flaxen package directory (…/flaxen), which holds every library frame
FLAXEN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_exclusions: set[str] = {FLAXEN_DIR}


def _jax_paths() -> list[str] | None:
  paths = getattr(_jax_tb, '_exclude_paths', None)
  return paths if isinstance(paths, list) else None


def register_exclusion(path: str) -> None:
  """Adds ``path`` to the directories hidden from tracebacks (if filtering is on)."""
  _exclusions.add(path)
  if config.flax_filter_frames:
    _hide(path)


def _hide(path: str) -> None:
  paths = _jax_paths()
  if paths is not None:
    if path not in paths:
      paths.append(path)
  elif _jax_tb is not None and hasattr(_jax_tb, 'register_exclusion'):
    _jax_tb.register_exclusion(path)


@set_module('flaxen.traceback_util')
def hide_flax_in_tracebacks() -> None:
  """Hides flaxen-internal frames from tracebacks filtered by JAX."""
  for path in _exclusions:
    _hide(path)


@set_module('flaxen.traceback_util')
def show_flax_in_tracebacks() -> None:
  """Shows flaxen-internal frames in tracebacks again."""
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


def api_boundary(fn: F) -> F:
  """Marks ``fn`` as a public entry point whose tracebacks JAX may filter."""
  if _jax_tb is None or not hasattr(_jax_tb, 'api_boundary'):
    return fn
  return _jax_tb.api_boundary(fn)


if config.flax_filter_frames:
  hide_flax_in_tracebacks()
