"""``PrefetchIterator``: read an iterator ahead on a background thread (deprecated).

A daemon thread pulls items from the wrapped iterator into a buffer of at most
``buffer_size`` items; ``next()`` takes the oldest one. The iterator ends when
the source is exhausted and the buffer drained; an exception raised by the
source is re-raised by ``next()`` after the items read before it, and by every
later ``next()`` (as in the reference). ``close()`` stops the thread (it
finishes its current ``next`` on the source first); the items already buffered
can still be taken.

Prefer ``tf.data``/``grain`` prefetching or ``flaxen.jax_utils.prefetch_to_device``;
creating one emits a ``DeprecationWarning`` as the reference does.
"""

from __future__ import annotations

import threading
import warnings
from collections import deque
from collections.abc import Iterable
from typing import Any

from flaxen._src.public import set_module


@set_module('flaxen.training.prefetch_iterator')
class PrefetchIterator:
  """Wraps an iterator and prefetches its items on a background thread.

  Args:
    data_iter: the source iterator (or iterable).
    buffer_size: how many items to read ahead (at least 1).

  Example:
    >>> import warnings
    >>> from flaxen.training.prefetch_iterator import PrefetchIterator
    >>> with warnings.catch_warnings():
    ...   warnings.simplefilter('ignore', DeprecationWarning)
    ...   it = PrefetchIterator(iter(range(3)), buffer_size=2)
    >>> list(it)
    [0, 1, 2]
  """

  def __init__(self, data_iter: Iterable[Any], buffer_size: int = 1):
    warnings.warn(
      'PrefetchIterator is deprecated. Use the standard `tf.data` prefetch method '
      'instead (or grain, or flaxen.jax_utils.prefetch_to_device for device copies).',
      DeprecationWarning,
      stacklevel=2,
    )
    if buffer_size < 1:
      raise ValueError(f'buffer_size must be at least 1, got {buffer_size}')
    self._source = iter(data_iter)
    self.buffer_size = buffer_size
    self._cond = threading.Condition()
    self._buffer: deque = deque()
    self._active = True
    self._error: BaseException | None = None
    self._thread = threading.Thread(target=self._fill, name='PrefetchIterator', daemon=True)
    self._thread.start()

  def __iter__(self) -> PrefetchIterator:
    return self

  def __next__(self) -> Any:
    with self._cond:
      self._cond.wait_for(lambda: self._buffer or not self._active)
      if self._buffer:
        item = self._buffer.popleft()
        self._cond.notify_all()
        return item
      if self._error is not None:
        raise self._error
      raise StopIteration

  def close(self) -> None:
    """Stops prefetching; the items already buffered can still be taken."""
    with self._cond:
      self._active = False
      self._cond.notify_all()

  def _fill(self) -> None:
    while True:
      with self._cond:
        self._cond.wait_for(lambda: len(self._buffer) < self.buffer_size or not self._active)
        if not self._active:
          return
      try:
        item = next(self._source)
      except StopIteration:
        with self._cond:
          self._active = False
          self._cond.notify_all()
        return
      except BaseException as e:  # handed to the consumer
        with self._cond:
          self._error = e
          self._active = False
          self._cond.notify_all()
        return
      with self._cond:
        if not self._active:
          return
        self._buffer.append(item)
        self._cond.notify_all()
