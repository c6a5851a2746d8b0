"""Dynamic context of the Module system, kept in ``contextvars`` (no thread-locals).

* the **module stack**: the modules whose wrapped methods are running, innermost
  last; its top is the default ``parent`` of a module constructed now (``None``
  at top level);
* the **interceptor stack**: functions registered with ``intercept_methods``
  (also used by ``capture_intermediates``);
* the **named-call** switch (``enable_named_call`` & co.).

Each context (thread, asyncio task) gets its own stack on first use.
"""

from __future__ import annotations

import contextvars
from typing import Any


class _Context:
  __slots__ = ('module_stack', 'interceptors')

  def __init__(self):
    self.module_stack: list[Any] = [None]
    self.interceptors: tuple[Any, ...] = ()


_CTX: contextvars.ContextVar[_Context] = contextvars.ContextVar('flaxen_module_context')


def get() -> _Context:
  """The module-system context of the current thread/task (created on first use)."""
  try:
    return _CTX.get()
  except LookupError:
    ctx = _Context()
    _CTX.set(ctx)
    return ctx


def current_module() -> Any:
  """The innermost module whose method is running (``None`` at top level)."""
  return get().module_stack[-1]
