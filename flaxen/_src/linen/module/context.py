"""Dynamic context of the Module system, kept in ``contextvars`` (no thread-locals).

Three context variables, each holding an *immutable* value:

* the **module stack**: the modules whose wrapped methods are running, as a
  chain of ``(module, outer chain)`` pairs with the innermost first; its head
  is the default ``parent`` of a module constructed now (``None`` at top level);
* the **interceptors**: a tuple of the functions registered with
  ``intercept_methods`` (also used by ``capture_intermediates``), outermost first;
* the **named-call override**: ``None`` (follow the process-wide setting of
  ``named_call.py``) or a bool set by ``override_named_call``.

A change is a ``set`` that returns a token and is undone with ``reset(token)``,
never a mutation. The variables themselves are importable (``MODULES``, ...) so
the per-call path of ``methods.py`` reads and sets them without extra frames;
every change still goes through ``set``/``reset`` with a token. So a copied context (a new thread started with
``contextvars.copy_context().run``, an ``asyncio`` task, ``asyncio.to_thread``)
sees the values of the moment it was copied and never shares a stack with
the context it was copied from: two ``init`` calls running at once in two
copies of one context cannot see each other's modules.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

Chain = tuple[Any, 'Chain'] | None

MODULES: contextvars.ContextVar[Chain] = contextvars.ContextVar(
  'flaxen_module_stack', default=None
)
INTERCEPTORS: contextvars.ContextVar[tuple[Callable[..., Any], ...]] = contextvars.ContextVar(
  'flaxen_interceptors', default=()
)
NAMED_CALL: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
  'flaxen_named_call_override', default=None
)

Token = contextvars.Token


def current_module() -> Any:
  """The innermost module whose method is running (``None`` at top level)."""
  chain = MODULES.get()
  return None if chain is None else chain[0]


def push_module(module: Any) -> Token:
  """Makes ``module`` the innermost running module; undo with ``pop_module(token)``."""
  return MODULES.set((module, MODULES.get()))


def pop_module(token: Token) -> None:
  """Restores the module stack as it was before the ``push_module`` that gave ``token``."""
  MODULES.reset(token)


def module_stack() -> tuple[Any, ...]:
  """The running modules, outermost first (for debugging and tests)."""
  out = []
  chain = MODULES.get()
  while chain is not None:
    out.append(chain[0])
    chain = chain[1]
  return tuple(reversed(out))


def interceptors() -> tuple[Callable[..., Any], ...]:
  """The registered interceptors, outermost first."""
  return INTERCEPTORS.get()


def push_interceptor(interceptor: Callable[..., Any]) -> Token:
  """Registers ``interceptor`` innermost; undo with ``pop_interceptor(token)``."""
  return INTERCEPTORS.set(INTERCEPTORS.get() + (interceptor,))


def pop_interceptor(token: Token) -> None:
  """Restores the interceptors as they were before the matching ``push_interceptor``."""
  INTERCEPTORS.reset(token)


def named_call_override() -> bool | None:
  """``override_named_call``'s value in this context (``None``: none active)."""
  return NAMED_CALL.get()


def set_named_call_override(enable: bool | None) -> Token:
  """Overrides the named-call switch in this context; undo with ``reset_named_call``."""
  return NAMED_CALL.set(enable)


def reset_named_call(token: Token) -> None:
  """Restores the named-call override that was active before ``set_named_call_override``."""
  NAMED_CALL.reset(token)
