"""Linen ``jit`` (class name ``Jit<Class>``; also a method decorator).

The core ``jit`` is built once per transformed method, so ``jax.jit``'s cache
persists across calls. The module reaches the traced function through a static
*key* (``ModuleKey``) that compares by what the trace depends on: the method,
the module's configuration (``fingerprint.py``: class and field values, not its
name, path or identity) and the naming state the clone starts from; the core
``jit`` adds each lifted scope's mutability, flags and RNG counters. Each call
forks the streams of the module's own scope (``Scope.forked_rngs``); other
lifted scopes (modules held in fields or passed in) keep their base keys with
the path dropped, as in the reference. So a new
``Model(config)`` every step, or the same layer at several places of a model,
reuses one trace. A call that hits the cache does not run the method, so the
naming state its trace left behind is replayed.

The key carries the call's module, scope plan and state only for the duration
of the call (``release``): what the trace cache keeps compares by value and
holds no module, scope or variable alive.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from flaxen._src import errors
from flaxen._src.core.lift.jit import jit_with_key
from flaxen._src.linen.module.methods import wrap_method_once
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.module.named_call import method_name
from flaxen._src.linen.transforms.bridge import (
  ScopePlan,
  fork_rngs,
  is_module_class,
  module_class_lift_transform,
  run_on_clone,
)
from flaxen._src.linen.transforms.fingerprint import fingerprint
from flaxen._src.public import set_module


def _naming_summary(state: Any) -> tuple:
  return (state.in_compact_method, state.in_setup, int(state.setup_called),
          tuple(sorted(state.autoname_cursor.items())))


class ModuleKey:
  """Static argument of the core jit: compares by ``fp``, carries one call's module."""

  __slots__ = ('fp', 'module', 'plan', 'state', 'after')

  def __init__(self, fn: Callable[..., Any], module: Module, plan: ScopePlan, state: Any):
    self.fp = (fn, fingerprint(module), _naming_summary(state))
    self.module, self.plan, self.state, self.after = module, plan, state, None

  def release(self) -> None:
    # a released key is never used again: its fields are typed for the live one
    self.module = self.plan = self.state = self.after = None  # type: ignore[assignment]

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, ModuleKey) and self.fp == other.fp

  def __hash__(self) -> int:
    return hash(self.fp)


def jit_method(fn: Callable[..., Any], base: type | None = None, variables: Any = True,
               rngs: Any = True, static_argnums: Any = (), static_argnames: Any = (),
               donate_argnums: Any = (), device: Any = None, backend: Any = None
               ) -> Callable[..., Any]:
  """Lifted ``jax.jit`` of ``fn(module, *args)``, compiled once per key and signature.

  ``base``: for a transformed class, the class the module runs as inside.
  """
  prewrapped = wrap_method_once(fn)
  name = method_name(fn)
  replays: dict[Any, Any] = {}  # key -> naming state a trace left behind

  def core_fn(scopes, key, *args, **kwargs):
    out, key.after = run_on_clone(key.module, key.plan, key.state, prewrapped, scopes, args,
                                  kwargs, base)
    return out

  lifted = jit_with_key(core_fn, variables, rngs, static_argnums, static_argnames,
                        donate_argnums, device, backend, fork_rngs=False)

  @functools.wraps(prewrapped)
  def wrapped(self, *args, **kwargs):
    if not isinstance(self, Module):
      raise TypeError(f'{name} must be called with a Module instance as its first argument.')
    state = self._state.export()
    with fork_rngs(self):  # fresh keys per call, for the module's own scope
      plan = ScopePlan(self, args, kwargs)
      key = ModuleKey(fn, self, plan, state)
      try:
        out = lifted(plan.scopes, key, *plan.args, **plan.kwargs)
        if key.after is not None:
          replays[key] = key.after
        elif key in replays:
          self._state.reimport(replays[key])
      finally:
        plan.release()
        key.release()
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

  Repeated calls with the same shapes, static arguments and module configuration
  reuse the compiled function (no retrace). RNG streams are forked at every call.
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
  options = dict(variables=variables, rngs=rngs, static_argnums=static_argnums,
                 static_argnames=static_argnames, donate_argnums=donate_argnums, device=device,
                 backend=backend)
  if is_module_class(target):
    def per_method(fn, base, **method_options):
      # methods={'name': {...}} gives a method its own options (instead of these)
      return jit_method(fn, base, **(method_options or options))

    return module_class_lift_transform(jit, target, methods=methods, lift_fn=per_method)
  if callable(target) and not isinstance(target, Module):
    return jit_method(target, **options)
  raise errors.TransformTargetError(target)
