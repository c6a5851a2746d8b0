"""``AsyncManager``: run checkpoint commits on a background thread, one at a time.

``save_checkpoint(..., async_manager=m)`` serializes the target on the calling
thread (a consistent snapshot), then hands the write + rename + clean-up to
``m``. Saves through one manager are strictly sequential: a new save first waits
for the previous one, so the ``keep`` / ``overwrite`` bookkeeping of each save
sees the files of all earlier saves. The manager's ``lock`` is held from that
wait until the new task is queued, so saves issued concurrently from several
threads are serialized too.

Unlike the reference, a failed background save is never lost:

* its exception is re-raised by the next ``wait_previous_save()`` (or by the
  next save through the manager);
* if the program ends without waiting, an exit handler waits for every pending
  save, prints each failure with its traceback to stderr and ends the process
  with exit status 1 (it calls ``os._exit(1)`` after flushing the standard
  streams and logging, so exit handlers registered before flaxen was imported
  do not run in that case).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from flaxen._src.public import set_module

_log = logging.getLogger('flaxen.training.checkpoints')
# background saves whose outcome nobody has collected yet (kept even when their manager
# was a temporary that is gone)
_outstanding_lock = threading.Lock()
_outstanding: set[Future] = set()


@set_module('flaxen.training.checkpoints')
class AsyncManager:
  """Runs checkpoint saves in a background thread, one after the other.

  Args:
    max_workers: threads of the executor (saves still run one at a time).

  Example:
    >>> import tempfile, numpy as np
    >>> from flaxen import config
    >>> from flaxen.training import checkpoints
    >>> m = checkpoints.AsyncManager()
    >>> d = tempfile.mkdtemp()
    >>> with config.temp_flip_flag('use_orbax_checkpointing', False):
    ...   _ = checkpoints.save_checkpoint(d, {'w': np.ones(2)}, step=1, async_manager=m)
    >>> m.wait_previous_save()
    >>> checkpoints.available_steps(d)
    [1]
  """

  def __init__(self, max_workers: int = 1):
    self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix='flaxen-ckpt')
    self.save_future: Future | None = None
    self.lock = threading.RLock()

  def wait_previous_save(self) -> None:
    """Blocks until the previous save finished; re-raises its exception if it failed."""
    with self.lock:
      future, self.save_future = self.save_future, None
    if future is None:
      return
    with _outstanding_lock:
      _outstanding.discard(future)
    if not future.done():
      _log.info('Waiting for the previous asynchronous checkpoint save to finish.')
    future.result()

  def save_async(self, task: Callable[[], object]) -> None:
    """Waits for the previous save, then runs ``task`` in the background."""
    with self.lock:
      self.wait_previous_save()
      self.save_future = self.executor.submit(task)
      with _outstanding_lock:
        _outstanding.add(self.save_future)

  def pending(self) -> Callable[[], object]:
    """A function that waits for the current background save without consuming its outcome."""
    future = self.save_future
    return (lambda: concurrent.futures.wait([future])) if future is not None else (lambda: None)


def _unreported_failures() -> list[BaseException]:
  with _outstanding_lock:
    futures = list(_outstanding)
    _outstanding.clear()
  concurrent.futures.wait(futures)
  # (mypy does not narrow the repeated call: every item is an exception, none is None)
  return [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]  # type: ignore[misc]


def _report_at_exit() -> None:
  failures = _unreported_failures()
  if not failures:
    return
  for err in failures:
    sys.stderr.write(
      'flaxen: an asynchronous checkpoint save failed and the program ended without waiting '
      'for it (call AsyncManager.wait_previous_save() to handle such errors):\n'
      + ''.join(traceback.format_exception(type(err), err, err.__traceback__))
    )
  for stream in (sys.stdout, sys.stderr):
    try:
      stream.flush()
    except (OSError, ValueError, AttributeError):
      pass
  logging.shutdown()
  os._exit(1)


atexit.register(_report_at_exit)
