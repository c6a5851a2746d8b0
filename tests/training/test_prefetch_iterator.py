"""PrefetchIterator: order, buffer bound, errors, close, deprecation."""

import threading
import time

import pytest

from flaxen.training.prefetch_iterator import PrefetchIterator


def make(it, n=2):
  # the reference's deprecation text, verbatim, at the start of the message
  with pytest.warns(DeprecationWarning, match=r'^PrefetchIterator is deprecated\. Use the '
                    r'standard `tf\.data` prefetch method instead'):
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
  # the error stays: every later next() raises it again, as in the reference
  for _ in range(2):
    with pytest.raises(RuntimeError, match='bad record'):
      next(it)


def test_close_stops_the_thread():
  it = make(iter(range(10**9)), 1)
  next(it)
  it.close()
  it._thread.join(timeout=2)
  assert not it._thread.is_alive()
  # what was buffered before close() is still handed out, then the iterator ends
  assert list(it) in ([], [1])


def test_close_keeps_the_buffered_items():
  it = make(iter(range(100)), 3)
  assert next(it) == 0
  deadline = time.monotonic() + 5
  while len(it._buffer) < 3 and time.monotonic() < deadline:
    time.sleep(0.01)
  it.close()
  assert list(it) == [1, 2, 3]


def test_invalid_buffer_size():
  with pytest.warns(DeprecationWarning), pytest.raises(ValueError):
    PrefetchIterator(iter([]), 0)
  assert threading.active_count() >= 1
