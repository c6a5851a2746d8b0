"""JAX trace bookkeeping for scopes: catching tracers that would leak into variables.

A ``Scope`` records the JAX trace that was current when it was created
(``current_trace()``). Reading variables, drawing keys or pushing children
under another trace is fine (a raw ``jax.jit``/``jax.grad``/``jax.vmap`` over a
bound module's method works, as in the reference). What cannot work is
*storing* a value that holds a tracer of the current transform into a scope
that outlives it: the variable dict would hold a leaked tracer and the program
would fail later, far from the cause. ``leaks(base, value)`` detects exactly
that, and ``Scope.put_variable`` raises ``JaxTransformError`` for it; Flax's
lifted transforms build fresh scopes inside the transform instead.

``check_trace_level`` is kept for compatibility and, like the reference's, does
not raise.
"""

from __future__ import annotations

from typing import Any

import jax

from flaxen._src.public import set_module

try:  # jax >= 0.4.36
  from jax.extend.core import get_opaque_trace_state as _get_state
except ImportError:  # pragma: no cover - old jax
  from jax.core import get_opaque_trace_state as _get_state

_trace_ctx: Any  # jax's trace context, or None where this jax has none
try:
  from jax._src.core import trace_ctx as _trace_ctx
except ImportError:  # pragma: no cover - a jax without it: no leak detection, like the reference
  _trace_ctx = None


@set_module('flaxen.core.tracers')
def current_trace() -> Any:
  """An opaque, comparable token for the current JAX trace."""
  return _get_state(convention='flax')


@set_module('flaxen.core.tracers')
def check_trace_level(base_level: Any) -> None:
  """Compatibility no-op (the reference's does not raise either); see ``leaks``."""
  del base_level


def leaks(base_level: Any, value: Any) -> bool:
  """Whether storing ``value`` in a scope made under ``base_level`` leaks a tracer.

  True when the current trace is not the scope's and ``value`` holds a tracer of
  the current trace (a tracer of an outer trace, shared with the scope, is fine).
  """
  if _trace_ctx is None or current_trace() == base_level:
    return False
  now = _trace_ctx.trace
  return any(isinstance(leaf, jax.core.Tracer) and getattr(leaf, '_trace', None) is now
             for leaf in jax.tree_util.tree_leaves(value))
