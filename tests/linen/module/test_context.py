"""flaxen._src.linen.module.context: the module stack and interceptors live in contextvars.

Each thread (or copied context) has its own stack, so concurrent ``init`` calls in
several threads give the same results as sequential ones, and a failing method
leaves the stack as it found it.
"""

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

  depth = len(context.get().module_stack)
  with pytest.raises(RuntimeError, match='boom'):
    Boom().init(KEY, jnp.ones((1, 2)))
  assert len(context.get().module_stack) == depth
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
  assert context.get().interceptors == ()
