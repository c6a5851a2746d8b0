"""flaxen._src.linen.module.context: the module stack and interceptors live in contextvars.

Each thread (or copied context) has its own stack, so concurrent ``init`` calls in
several threads, or in several copies of one context (asyncio tasks,
``asyncio.to_thread``), give the same results as sequential ones, and a failing
method leaves the stack as it found it.
"""

import asyncio
import contextvars
import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.linen.module import context

KEY = jax.random.key(0)


class Paused(nn.Module):
  """Creates submodules before and after a barrier, so two threads interleave mid-method."""

  widths: tuple
  barrier: object = None

  @nn.compact
  def __call__(self, x):
    x = nn.Dense(self.widths[0])(x)
    if self.barrier is not None:
      self.barrier.wait(timeout=10)
    for w in self.widths[1:]:
      x = nn.Dense(w)(x)
    return x


def _shapes(variables):
  return jax.tree_util.tree_map(jnp.shape, variables)


def test_top_level_context_is_empty():
  assert context.current_module() is None
  assert nn.Dense(2).parent is None


def test_concurrent_init_in_two_threads():
  x = jnp.ones((1, 3))
  specs = {'a': (4, 4), 'b': (4, 4, 4)}  # same shapes: few compilations, different trees
  expected = {k: Paused(w).init(KEY, x) for k, w in specs.items()}
  barrier = threading.Barrier(2)
  results, failures = {}, []

  def work(key):
    try:
      results[key] = Paused(specs[key], barrier).init(KEY, x)
    except BaseException as e:  # noqa: BLE001 - reported below
      failures.append(e)
      barrier.abort()

  threads = [threading.Thread(target=work, args=(k,)) for k in specs]
  for t in threads:
    t.start()
  for t in threads:
    t.join(timeout=30)
  assert not failures, failures
  for k in specs:
    assert _shapes(results[k]) == _shapes(expected[k])
    for got, want in zip(jax.tree_util.tree_leaves(results[k]),
                         jax.tree_util.tree_leaves(expected[k])):
      np.testing.assert_array_equal(got, want)
  assert context.current_module() is None


def test_new_thread_does_not_see_the_callers_stack():
  seen = {}

  class Spawner(nn.Module):
    @nn.compact
    def __call__(self, x):
      seen['here'] = context.current_module() is self

      def probe():
        seen['thread'] = context.current_module()
        seen['thread_parent'] = nn.Dense(2).parent

      t = threading.Thread(target=probe)
      t.start()
      t.join()
      seen['copied'] = contextvars.copy_context().run(lambda: context.current_module() is self)
      return x

  Spawner().init(KEY, jnp.ones(1))
  assert seen == {'here': True, 'thread': None, 'thread_parent': None, 'copied': True}


def test_stack_is_unwound_after_an_exception():
  class Boom(nn.Module):
    @nn.compact
    def __call__(self, x):
      nn.Dense(2)(x)
      raise RuntimeError('boom')

  with pytest.raises(RuntimeError, match='boom'):
    Boom().init(KEY, jnp.ones((1, 2)))
  assert context.module_stack() == ()
  assert context.current_module() is None
  assert nn.Dense(3).parent is None  # not wrongly parented to the failed module


def test_interceptors_are_per_thread():
  seen_in = []

  def interceptor(next_fun, args, kwargs, ctx):
    seen_in.append(threading.current_thread().name)
    return next_fun(*args, **kwargs)

  barrier = threading.Barrier(2)

  def other():
    barrier.wait(timeout=10)  # runs while main's interceptor is installed
    nn.Dense(2).init(KEY, jnp.ones((1, 2)))

  t = threading.Thread(target=other, name='other')
  with nn.intercept_methods(interceptor):
    t.start()
    barrier.wait(timeout=10)
    t.join(timeout=30)
    nn.Dense(2).init(KEY, jnp.ones((1, 2)))
  main = threading.current_thread().name
  assert seen_in and set(seen_in) == {main}  # the other thread never ran main's interceptor
  assert context.interceptors() == ()


def _check_same(results, expected):
  for k, want in expected.items():
    assert _shapes(results[k]) == _shapes(want)
    for got, ref in zip(jax.tree_util.tree_leaves(results[k]), jax.tree_util.tree_leaves(want)):
      np.testing.assert_array_equal(got, ref)


def test_concurrent_init_in_asyncio_to_thread():
  """Two ``await asyncio.to_thread(model.init, ...)`` at once: each runs in a copy of one context."""
  x = jnp.ones((1, 3))
  specs = {'a': (4, 4), 'b': (4, 4, 4)}
  expected = {k: Paused(w).init(KEY, x) for k, w in specs.items()}  # the context has been used
  barrier = threading.Barrier(2)

  async def main():
    runs = [asyncio.to_thread(Paused(specs[k], barrier).init, KEY, x) for k in specs]
    return dict(zip(specs, await asyncio.gather(*runs)))

  _check_same(asyncio.run(main()), expected)
  assert context.module_stack() == ()


def test_concurrent_init_in_copied_contexts_on_threads():
  """Threads running copies of the *same* context (taken inside a running method)."""
  x = jnp.ones((1, 3))
  specs = {'a': (4, 4), 'b': (4, 4, 4)}
  expected = {k: Paused(w).init(KEY, x) for k, w in specs.items()}
  barrier = threading.Barrier(2)
  results, failures, stacks = {}, [], []

  class Launcher(nn.Module):
    @nn.compact
    def __call__(self, x):
      def work(key):
        try:
          stacks.append(context.current_module() is self)  # the copy sees the caller's stack
          results[key] = Paused(specs[key], barrier, parent=None).init(KEY, x)
          stacks.append(context.current_module() is self)  # and gets it back unchanged
        except BaseException as e:  # noqa: BLE001 - reported below
          failures.append(e)
          barrier.abort()

      threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, k))
                 for k in specs]
      for t in threads:
        t.start()
      for t in threads:
        t.join(timeout=30)
      assert context.current_module() is self
      return x

  Launcher().init(KEY, x)
  assert not failures, failures
  assert stacks == [True] * 4
  _check_same(results, expected)


def test_intercept_methods_in_a_copied_context_stays_there():
  seen = []

  def interceptor(next_fun, args, kwargs, ctx):
    seen.append(ctx.method_name)
    return next_fun(*args, **kwargs)

  def inside():
    with nn.intercept_methods(interceptor):
      nn.Dense(2).init(KEY, jnp.ones((1, 2)))
      return context.interceptors()

  assert contextvars.copy_context().run(inside) == (interceptor,)
  assert context.interceptors() == ()
  nn.Dense(2).init(KEY, jnp.ones((1, 2)))
  assert seen == ['__call__']


def test_named_call_override_is_per_context():
  from flaxen._src.linen.module import named_call

  with nn.override_named_call(True):
    other = contextvars.Context().run(named_call.enabled)  # a fresh context: no override
    copied = contextvars.copy_context().run(named_call.enabled)
    assert named_call.enabled()
  assert copied is True
  assert other == named_call.enabled()
