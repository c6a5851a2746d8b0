"""Trace tokens, the compatibility no-op ``check_trace_level`` and leak detection."""

import jax
import jax.numpy as jnp

from flaxen._src.core import tracers
from flaxen.core.tracers import check_trace_level, current_trace


def test_trace_token_differs_inside_a_transform_but_check_does_not_raise():
  level = current_trace()
  assert current_trace() == level
  seen = []

  def inner(x):
    seen.append(current_trace() != level)
    check_trace_level(level)  # like the reference's: never raises
    return x

  jax.jit(inner)(1.0)
  assert seen == [True]


def test_leaks_only_for_tracers_of_the_current_transform():
  level = current_trace()
  assert not tracers.leaks(level, jnp.ones(2))
  found = {}

  def outer(x):
    inner_level = current_trace()

    def nested(y):
      found['own'] = tracers.leaks(level, y)  # a tracer of this transform, scope from outside
      found['outer'] = tracers.leaks(inner_level, x)  # a tracer the scope's trace owns
      found['same'] = tracers.leaks(current_trace(), y)
      found['concrete'] = tracers.leaks(level, jnp.ones(2))
      return y

    return jax.grad(lambda y: nested(y).sum())(x)

  jax.jit(outer)(jnp.ones(2))
  assert found == {'own': True, 'outer': False, 'same': False, 'concrete': False}
