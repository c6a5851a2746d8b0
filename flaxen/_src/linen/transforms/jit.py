"""Linen ``jit`` (class name ``Jit<Class>``; also a method decorator).

The core ``jit`` is built once per transformed method, so ``jax.jit``'s cache
persists across calls. The module reaches the traced function through a static
*key* whose hash and equality are a fingerprint of what the trace depends on:
the method, the module class and its field values (arrays and other unhashable
values by identity), and the naming state the clone starts from. A cached call
does not run the method, so the naming state its trace left behind is replayed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

from flaxen._src.core.lift.jit import jit_with_key
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.methods import wrap_method
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.transforms.bridge import (
  check_return_value,
  count_placeholders,
  get_module_scopes,
  is_module_class,
  lift_class,
  set_module_scopes,
)
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict


class _ById:
  __slots__ = ('obj',)

  def __init__(self, obj: Any):
    self.obj = obj

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, _ById) and other.obj is self.obj

  def __hash__(self) -> int:
    return id(self.obj)


def fingerprint(x: Any) -> Any:
  """A hashable summary of ``x`` for trace caching (see module docstring)."""
  if isinstance(x, Module):
    d = x.__dict__
    return ('module', type(x), tuple((k, fingerprint(d[k])) for k in type(x)._flaxen_field_names))
  if isinstance(x, list | tuple):
    return (type(x), tuple(fingerprint(v) for v in x))
  if isinstance(x, dict | FrozenDict):
    return ('dict', tuple((k, fingerprint(v)) for k, v in x.items()))
  if isinstance(x, jax.Array | np.ndarray):
    return _ById(x)
  try:
    hash(x)
  except TypeError:
    return _ById(x)
  return x


def _state_summary(state: Any) -> Any:
  return (state.in_compact_method, state.in_setup, int(state.setup_called),
          tuple(sorted(state.autoname_cursor.items())))


class ModuleKey:
  """Static argument of the core jit: carries the module, compares by fingerprint."""

  __slots__ = ('module', 'state', 'fp', 'after', 'first')

  def __init__(self, module: Module, state: Any, fn: Callable[..., Any]):
    self.module, self.state, self.after, self.first = module, state, None, None
    self.fp = (fn, fingerprint(module), _state_summary(state))

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, ModuleKey) and self.fp == other.fp

  def __hash__(self) -> int:
    return hash(self.fp)


def jit_method(fn: Callable[..., Any], variables: Any = True, rngs: Any = True,
               static_argnums: Any = (), static_argnames: Any = (), donate_argnums: Any = (),
               device: Any = None, backend: Any = None) -> Callable[..., Any]:
  """Lifted ``jax.jit`` of ``fn(module, *args)``, compiled once per fingerprint and shapes."""
  prewrapped = wrap_method(fn)
  name = getattr(fn, '__name__', None)
  after_states: dict[ModuleKey, Any] = {}

  def core_fn(scopes, key, *args, **kwargs):
    module = key.module
    cloned, args, kwargs = set_module_scopes(module, args, kwargs, scopes, key.first)
    state_lib.set_state(cloned, key.state.export())
    res = prewrapped(cloned, *args, **kwargs)
    key.after = cloned._state
    module._state.reimport(cloned._state)
    check_return_value(res, name)
    return res

  lifted = jit_with_key(core_fn, variables, rngs, static_argnums, static_argnames,
                        donate_argnums, device, backend)

  @functools.wraps(prewrapped)
  def wrapped(self, *args, **kwargs):
    if not isinstance(self, Module):
      raise TypeError(f'{name} must be called with a Module as first argument.')
    state = self._state.export()
    key = ModuleKey(self, state, fn)
    scopes, args, kwargs = get_module_scopes(self, args, kwargs)
    key.first = count_placeholders((args, kwargs))
    out = lifted(scopes, key, *args, **kwargs)
    if key.after is not None:
      after_states[key] = key.after
      key.after = None
    elif key in after_states:
      self._state.reimport(after_states[key])
    return out

  wrapped.method_handler_wrapped = True  # type: ignore[attr-defined]
  return wrapped


@set_module('flaxen.linen')
def jit(
  target: Any,
  variables: Any = True,
  rngs: Any = True,
  static_argnums: int | Iterable[int] = (),
  static_argnames: str | Iterable[str] = (),
  donate_argnums: int | Iterable[int] = (),
  device: Any = None,
  backend: str | None = None,
  methods: Any = None,
) -> Any:
  """Lifted ``jax.jit`` of a Module class, a function of a module, or a method (decorator).

  Repeated calls with the same shapes, static arguments and module fields reuse
  the compiled function (no retrace). RNG streams are forked at every call.
  ``static_argnums`` count ``self`` as argument 0.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> JitDense = nn.jit(nn.Dense)
    >>> v = JitDense(2).init(jax.random.key(0), jnp.ones((1, 3)))
    >>> sorted(v['params'])
    ['bias', 'kernel']

  Raises:
    TransformTargetError: ``target`` is a Module instance.
  """
  kwargs = dict(variables=variables, rngs=rngs, static_argnums=static_argnums,
                static_argnames=static_argnames, donate_argnums=donate_argnums, device=device,
                backend=backend)
  if is_module_class(target):
    return lift_class(None, 'Jit', target, methods=methods,
                      lift_fn=functools.partial(jit_method, **kwargs))
  if callable(target) and not isinstance(target, Module):
    return jit_method(target, **kwargs)
  from flaxen._src import errors

  raise errors.TransformTargetError(target)
