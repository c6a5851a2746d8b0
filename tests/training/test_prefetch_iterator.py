"""PrefetchIterator: order, buffer bound, errors, close, deprecation."""

import threading
import time

import pytest

from flaxen.training.prefetch_iterator import PrefetchIterator


def make(it, n=2):
  with pytest.warns(DeprecationWarning):
    return PrefetchIterator(it, n)


def test_yields_all_items_in_order():
  assert list(make(iter(range(20)), 3)) == list(range(20))
  assert list(make(iter([]))) == []


def test_reads_ahead_at_most_buffer_size():
  produced = []

  def source():
    for i in range(100):
      produced.append(i)
      yield i

  it = make(source(), 2)
  assert next(it) == 0
  time.sleep(0.05)
  assert len(produced) <= 4  # 1 consumed + 2 buffered + 1 being handed over
  it.close()


def test_errors_reach_the_consumer_after_earlier_items():
  def source():
    yield 1
    yield 2
    raise RuntimeError('bad record')

  it = make(source())
  assert next(it) == 1 and next(it) == 2
  with pytest.raises(RuntimeError, match='bad record'):
    next(it)
  with pytest.raises(StopIteration):
    next(it)


def test_close_stops_the_thread():
  it = make(iter(range(10**9)), 1)
  next(it)
  it.close()
  it._thread.join(timeout=2)
  assert not it._thread.is_alive()
  with pytest.raises(StopIteration):
    next(it)


def test_invalid_buffer_size():
  with pytest.warns(DeprecationWarning), pytest.raises(ValueError):
    PrefetchIterator(iter([]), 0)
  assert threading.active_count() >= 1
