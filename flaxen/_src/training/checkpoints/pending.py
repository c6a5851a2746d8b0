"""Saves still running in the background, per checkpoint directory, so readers can wait for them.

``save_checkpoint(..., async_manager=m)`` commits in a background thread, and an
Orbax ``AsyncCheckpointer`` finishes its save in the background too. A restore
(or ``latest_checkpoint``) of the same directory in the same process first
waits for those saves, so it never misses a checkpoint that was already
"saved" from the caller's point of view. Waiting never consumes a failure: the
``AsyncManager`` still re-raises it to its owner.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_lock = threading.Lock()
_waiters: dict[str, list[Callable[[], object]]] = {}


def _key(directory: str) -> str:
  if '://' in directory:
    return directory.rstrip('/')
  return os.path.realpath(directory)


def add(directory: str, wait: Callable[[], object]) -> None:
  """Registers ``wait`` (blocks until a background save into ``directory`` is done)."""
  with _lock:
    _waiters.setdefault(_key(directory), []).append(wait)


def wait_for(directory: str) -> None:
  """Blocks until every background save registered for ``directory`` is done."""
  with _lock:
    waiters = _waiters.pop(_key(directory), [])
  for wait in waiters:
    wait()
