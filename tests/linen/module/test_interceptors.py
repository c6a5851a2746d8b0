"""intercept_methods: order, context, and the ability to change calls."""

import jax.numpy as jnp

from flaxen import linen as nn


class Id(nn.Module):
  @nn.compact
  def __call__(self, x):
    return Double()(x)


class Double(nn.Module):
  def __call__(self, x):
    return 2 * x

  def other(self, x):
    return x


def test_interceptor_sees_every_wrapped_call():
  seen = []

  def log(next_fun, args, kwargs, context):
    seen.append((type(context.module).__name__, context.method_name, context.module.path))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(log):
    Id().apply({}, jnp.ones(1))
  assert seen == [("Id", "__call__", ()), ("Double", "__call__", ("Double_0",))]
  Id().apply({}, jnp.ones(1))
  assert len(seen) == 2  # removed after the with block


def test_outer_interceptor_runs_first_and_can_change_results():
  order = []

  def outer(next_fun, args, kwargs, context):
    order.append("outer")
    return next_fun(*args, **kwargs) + 1

  def inner(next_fun, args, kwargs, context):
    order.append("inner")
    return next_fun(*args, **kwargs) * 10

  with nn.intercept_methods(outer):
    with nn.intercept_methods(inner):
      y = Double().apply({}, jnp.ones(()))
  assert order == ["outer", "inner"]
  assert float(y) == 21.0


def test_interceptor_can_skip_call_and_see_orig_method():
  def skip(next_fun, args, kwargs, context):
    assert context.orig_method.func.__name__ == context.method_name
    if context.method_name == "__call__":
      return context.orig_method(*args, **kwargs) - 1
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(skip):
    assert float(Double().apply({}, jnp.ones(()))) == 1.0


def test_orig_method_skips_later_interceptors():
  seen = []

  def first(next_fun, args, kwargs, context):
    seen.append("first")
    return context.orig_method(*args, **kwargs)

  def second(next_fun, args, kwargs, context):
    seen.append("second")
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(first), nn.intercept_methods(second):
    assert float(Double().apply({}, jnp.ones(()))) == 2.0
  assert seen == ["first"]


def test_reference_helper_names():
  from flaxen.linen import module as module_lib

  calls = []

  def log(next_fun, args, kwargs, context):
    calls.append((context.method_name, args, kwargs))
    return next_fun(*args, **kwargs)

  class Twice(nn.Module):
    pass

  def double(self, x, k=1):
    return x * 2 * k

  with nn.intercept_methods(log):
    out = module_lib.run_interceptors(double, Twice(), 3, k=2)
  assert out == 12 and calls == [('double', (3,), {'k': 2})]
  assert module_lib.capture_call_intermediates(None, '__call__')
  assert not module_lib.capture_call_intermediates(None, 'encode')
  assert module_lib.tuple_reduce(module_lib.tuple_init(), 1) == (1,)
