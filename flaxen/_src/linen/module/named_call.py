"""Named calls: wrap each module method call in ``jax.named_scope`` for profiler traces.

This file is the one home of the named-call *label* (``label``) and of the
name of a method (``method_name``, which sees through ``functools.partial``);
the Module call path and the ``nn.named_call`` transform both use them.

The switch: ``enable_named_call()``/``disable_named_call()`` set the
process-wide default (until then ``config.flax_profile`` decides, read at each
call); ``override_named_call(enable)`` overrides it for the body of a ``with``
block in the current context only (a context variable restored with its
token, so threads and asyncio tasks never see each other's overrides). Labels
only show in compiled code (HLO metadata, profiles); they never change the
computation.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from flaxen._src.config import config
from flaxen._src.linen.module import context
from flaxen._src.public import set_module

_default: bool | None = None  # None: follow config.flax_profile


def enabled() -> bool:
  """Whether module methods are currently wrapped in named scopes."""
  on = context.NAMED_CALL.get()
  if on is None:
    on = _default
  return config.flax_profile if on is None else on


@set_module('flaxen.linen')
def enable_named_call() -> None:
  """Wraps every module method call in ``jax.named_scope(<module name>)`` from now on.

  The process-wide switch; it also ends an ``override_named_call`` active in the
  current context (until that block exits), so the last call wins.
  """
  _set_default(True)


@set_module('flaxen.linen')
def disable_named_call() -> None:
  """Stops wrapping module method calls in named scopes (see ``enable_named_call``)."""
  _set_default(False)


def _set_default(on: bool) -> None:
  global _default
  _default = on
  if context.named_call_override() is not None:
    context.set_named_call_override(None)  # undone by the enclosing override's reset


@set_module('flaxen.linen')
@contextlib.contextmanager
def override_named_call(enable: bool = True) -> Iterator[None]:
  """Context manager turning named calls on (or off) inside its body (this context only)."""
  token = context.set_named_call_override(enable)
  try:
    yield
  finally:
    context.reset_named_call(token)


def method_name(fn: Callable[..., Any]) -> str:
  """The name of a method or function (``functools.partial`` objects: of the wrapped one)."""
  while isinstance(fn, functools.partial):
    fn = fn.func
  return getattr(fn, '__name__', 'unnamed_function')


def label(module: Any, fn_name: str) -> str:
  """The named-scope label of a call of ``fn_name`` on ``module``.

  The module's name (its class name when it has none, e.g. the root), then
  ``.<method>`` unless the method is ``__call__``.
  """
  suffix = '' if fn_name == '__call__' else f'.{fn_name}'
  return f'{module.name or type(module).__name__}{suffix}'
