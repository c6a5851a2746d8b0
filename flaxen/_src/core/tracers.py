"""JAX trace-level bookkeeping for scopes.

A ``Scope`` records the JAX trace that was current when it was created. Using
the scope (creating variables, drawing keys, making child scopes) under a
*different* trace means a raw JAX transform (``jax.jit``, ``jax.grad``, a
``lax`` control-flow body, ...) was wrapped around part of a model: values
created there would leak tracers into the variable dict. That raises
``JaxTransformError``; Flax's lifted transforms build fresh scopes inside the
transform instead.
"""

from __future__ import annotations

from typing import Any

from flaxen._src import errors
from flaxen._src.public import set_module

try:  # jax >= 0.4.36
  from jax.extend.core import get_opaque_trace_state as _get_state
except ImportError:  # pragma: no cover - old jax
  from jax.core import get_opaque_trace_state as _get_state  # type: ignore


@set_module('flaxen.core.tracers')
def current_trace() -> Any:
  """An opaque, comparable token for the current JAX trace."""
  return _get_state(convention='flax')


@set_module('flaxen.core.tracers')
def check_trace_level(base_level: Any) -> None:
  """Raises ``JaxTransformError`` unless the current trace is ``base_level``."""
  if current_trace() != base_level:
    raise errors.JaxTransformError()
