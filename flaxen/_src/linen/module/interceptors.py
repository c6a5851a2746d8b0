"""Method interceptors: hooks run around every wrapped module method call.

``intercept_methods(fn)`` registers ``fn(next_fun, args, kwargs, context)`` for
the body of a ``with`` block; ``context`` is an ``InterceptorContext`` with the
module, the method name and the original (unwrapped) method bound to the
module. Interceptors registered by outer ``with`` blocks wrap those of inner
blocks, so the outermost runs first. The registered interceptors are a tuple in
a context variable (``context.py``): a ``with`` block in one thread or task
never affects another. ``capture_intermediates`` is implemented as such an
interceptor (``capture_interceptor``), registered by ``init``/``apply`` for
their duration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

from flaxen._src.linen.module import context
from flaxen._src.linen.module.named_call import method_name
from flaxen._src.public import set_module

Args = tuple[Any]
Kwargs = dict[str, Any]
NextGetter = Callable[..., Any]


@set_module('flaxen.linen')
@dataclasses.dataclass(frozen=True)
class InterceptorContext:
  """What an interceptor learns about the intercepted call.

  Attributes:
    module: the module whose method is called.
    method_name: the name of the method.
    orig_method: the undecorated method bound to the module (``orig_method(*args)``
      skips the remaining interceptors).
  """

  module: Any
  method_name: str
  orig_method: Callable[..., Any]


Interceptor = Callable[[NextGetter, Args, Kwargs, InterceptorContext], Any]
"""``interceptor(next_fun, args, kwargs, context)``, as registered by ``intercept_methods``."""


@set_module('flaxen.linen')
@contextlib.contextmanager
def intercept_methods(interceptor: Callable[..., Any]) -> Iterator[None]:
  """Registers ``interceptor(next_fun, args, kwargs, context)`` around module method calls.

  Example:
    >>> from flaxen import linen as nn
    >>> import jax, jax.numpy as jnp
    >>> calls = []
    >>> def log(next_fun, args, kwargs, context):
    ...   calls.append(context.method_name)
    ...   return next_fun(*args, **kwargs)
    >>> class Id(nn.Module):
    ...   def __call__(self, x):
    ...     return x
    >>> with nn.intercept_methods(log):
    ...   _ = Id().apply({}, jnp.ones(2))
    >>> calls
    ['__call__']
  """
  token = context.push_interceptor(interceptor)
  try:
    yield
  finally:
    context.pop_interceptor(token)


@set_module('flaxen.linen.module')
def run_interceptors(orig_method: Callable[..., Any], module: Any, *args: Any,
                     **kwargs: Any) -> Any:
  """Calls ``orig_method(module, *args, **kwargs)`` through the registered interceptors."""
  call = functools.partial(orig_method, module)
  info = InterceptorContext(module, method_name(orig_method), call)

  for interceptor in reversed(context.interceptors()):
    call = _wrap(interceptor, call, info)
  return call(*args, **kwargs)


def _wrap(interceptor, next_fun, info):
  def wrapped(*args, **kwargs):
    return interceptor(next_fun, args, kwargs, info)

  return wrapped


@set_module('flaxen.linen.module')
def capture_call_intermediates(module: Any, method_name: str) -> bool:
  """``capture_intermediates=True``: capture the outputs of ``__call__``."""
  return method_name == '__call__'



def capture_interceptor(filter_fn: Callable[[Any, str], bool]) -> Callable[..., Any]:
  """An interceptor that sows each method output accepted by ``filter_fn`` in ``intermediates``."""

  def interceptor(next_fun, args, kwargs, info):
    y = next_fun(*args, **kwargs)
    if filter_fn(info.module, info.method_name):
      info.module.sow('intermediates', info.method_name, y)
    return y

  return interceptor


@contextlib.contextmanager
def capturing(filter_fn: Callable[[Any, str], bool] | bool) -> Iterator[None]:
  """Registers a capture interceptor for the body (no-op when ``filter_fn`` is false)."""
  if not filter_fn:
    yield
    return
  if filter_fn is True:
    filter_fn = capture_call_intermediates
  with intercept_methods(capture_interceptor(filter_fn)):
    yield
