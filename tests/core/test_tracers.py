"""Trace-level tokens: equal within one trace, different inside a JAX transform."""

import jax
import pytest

from flaxen import errors
from flaxen.core.tracers import check_trace_level, current_trace


def test_same_trace_passes_other_trace_raises():
  level = current_trace()
  check_trace_level(level)
  assert current_trace() == level

  def inner(x):
    with pytest.raises(errors.JaxTransformError):
      check_trace_level(level)
    check_trace_level(current_trace())
    return x

  jax.jit(inner)(1.0)
