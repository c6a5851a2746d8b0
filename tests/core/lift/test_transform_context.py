"""lift.TransformContext: a stack per context (thread, copied context), restored by tokens."""

import contextvars
import threading

import pytest

from flaxen.core import lift


def test_push_get_and_unwind():
  ctx = lift.TransformContext()
  with pytest.raises(IndexError):
    ctx.get()
  with ctx.push(1):
    with ctx.push(2):
      assert ctx.get() == 2 and ctx.stack == [1, 2]
    assert ctx.get() == 1
  assert ctx.stack == []


def test_unwinds_after_an_exception():
  ctx = lift.TransformContext()
  with pytest.raises(RuntimeError):
    with ctx.push('x'):
      raise RuntimeError
  assert ctx.stack == []


def test_threads_and_copied_contexts_do_not_share_the_stack():
  ctx = lift.TransformContext()
  seen = {}
  barrier = threading.Barrier(2)

  def work(tag):
    with ctx.push(tag):
      barrier.wait(timeout=10)  # both threads have pushed
      seen[tag] = ctx.stack

  with ctx.push('main'):
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, t))
               for t in ('a', 'b')]
    for t in threads:
      t.start()
    for t in threads:
      t.join(timeout=30)
    assert ctx.stack == ['main']
  assert seen == {'a': ['main', 'a'], 'b': ['main', 'b']}
