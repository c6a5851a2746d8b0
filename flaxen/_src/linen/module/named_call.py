"""Named calls: wrap each module method call in ``jax.named_scope`` for profiler traces.

On by default when ``config.flax_profile`` is set (the reference's default). The
scope name is the module's name (its class name for a root module), followed by
``.<method>`` for methods other than ``__call__``. Names only show in compiled
code (HLO metadata, profiles); they never change the computation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flaxen._src.config import config
from flaxen._src.public import set_module

_STATE = {'enabled': None}


def enabled() -> bool:
  """Whether module methods are currently wrapped in named scopes."""
  on = _STATE['enabled']
  return config.flax_profile if on is None else on


@set_module('flaxen.linen')
def enable_named_call() -> None:
  """Wraps every module method call in ``jax.named_scope(<module name>)`` from now on."""
  _STATE['enabled'] = True


@set_module('flaxen.linen')
def disable_named_call() -> None:
  """Stops wrapping module method calls in named scopes."""
  _STATE['enabled'] = False


@set_module('flaxen.linen')
@contextlib.contextmanager
def override_named_call(enable: bool = True) -> Iterator[None]:
  """Context manager turning named calls on (or off) inside its body."""
  old = _STATE['enabled']
  _STATE['enabled'] = enable
  try:
    yield
  finally:
    _STATE['enabled'] = old


def scope_name(module, fn_name: str) -> str:
  """The named-scope name of a call of ``fn_name`` on ``module``."""
  suffix = '' if fn_name == '__call__' else f'.{fn_name}'
  return f'{module.name or type(module).__name__}{suffix}'
