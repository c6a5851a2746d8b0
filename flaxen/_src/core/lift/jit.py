"""Lifted ``jax.jit``: compile a function of scopes once per input signature.

The jitted inner function is created once per ``jit(...)`` call and finds the
*current* ``scope_fn``/``repack_fn`` through a context variable (they change on
every call but are only used while tracing; a context variable keeps two
threads tracing at once apart). Everything that changes what the trace computes
but is not an array goes into a static *fingerprint*: the layout of the scope
tree, each root's mutable filter and flags, plus an optional caller key (Linen
passes a hashable summary of the module's configuration). A root's *path* is
not part of it: inside, RNG streams are forked keys with an empty path, so two
modules of one configuration at different places share one trace. The RNG
counters are part of the fingerprint too: keys drawn inside hash the counter
values seen while tracing, so a call that starts from other counters (the same
module called twice in one ``apply``) is traced again, exactly like the
reference; a call that starts from the same counters (a later ``apply``) reuses
the compiled function.

RNG streams are forked (``pack(..., fork_rngs=True)``): each call draws one key
per stream with ``make_rng`` on the transformed scope and uses it as the base
key, with an empty path, inside the compiled function. Counter advances made
while tracing are recorded and replayed on cached calls (``counters.py``).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable
from typing import Any

import jax

from flaxen._src.core.filters import DenyList
from flaxen._src.core.lift import counters as ctr
from flaxen._src.core.lift.pack import RngBox, pack
from flaxen._src.public import set_module


def hashable_filter(f: Any) -> Any:
  """A hashable stand-in for a collection filter."""
  if isinstance(f, DenyList):
    return ('deny', hashable_filter(f.deny))
  if isinstance(f, bool | str):
    return f
  if isinstance(f, Iterable):
    return tuple(sorted(f)) if isinstance(f, set | frozenset) else tuple(f)
  return f


def _hashable_flags(flags: Any) -> Any:
  try:
    items = tuple(sorted(flags.items()))
    hash(items)
    return items
  except TypeError:
    return id(flags)


# The lifted calls being traced now, innermost last: (scope_fn, repack_fn, traced flag).
_TRACING: contextvars.ContextVar[tuple] = contextvars.ContextVar('flaxen_lift_jit', default=())


def _as_tuple(x: Any) -> tuple:
  if x is None:
    return ()
  return (x,) if isinstance(x, int) else tuple(x)


def jit_with_key(
  fn: Callable[..., Any],
  variables: Any = True,
  rngs: Any = True,
  static_argnums: int | Iterable[int] = (),
  static_argnames: str | Iterable[str] = (),
  donate_argnums: int | Iterable[int] = (),
  device: Any = None,
  backend: str | None = None,
  fork_rngs: bool = True,
) -> Callable[..., Any]:
  """Like ``jit`` but ``fn(scope, key, *args)`` also receives a static ``key``.

  ``static_argnums`` count the scope as argument 0 (the key is not counted).
  With ``fork_rngs=False`` the streams are not forked here (Linen forks the
  module's own scope, ``Scope.forked_rngs``); inside, every stream's key is its
  base key with the path dropped either way.

  Returns:
    ``wrapper(scope_tree, key, *args, **kwargs)``; ``key`` must be hashable.
  """
  static_argnums = tuple(i + 3 for i in _as_tuple(static_argnums) if i > 0)
  donate_argnums = tuple(i + 3 for i in _as_tuple(donate_argnums) if i > 0)
  static_argnames = (static_argnames,) if isinstance(static_argnames, str) else static_argnames
  jit_kwargs = {}
  if device is not None:
    jit_kwargs['device'] = device
  if backend is not None:
    jit_kwargs['backend'] = backend
  deltas: dict[Any, list[dict]] = {}

  def jitted(fingerprint, key, variable_groups, rng_groups, *args, **kwargs):
    scope_fn, repack_fn, traced = _TRACING.get()[-1]
    traced.append(True)
    scope = scope_fn(variable_groups, rng_groups)
    y = fn(scope, key, *args, **kwargs)
    return y, repack_fn(scope)

  compiled = jax.jit(
    jitted,
    static_argnums=(0, 1) + static_argnums,
    static_argnames=tuple(static_argnames),
    donate_argnums=donate_argnums,
    **jit_kwargs,
  )

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, key, *args, **kwargs):
    roots = scope_fn.roots
    fingerprint = (
      scope_fn.layout,
      tuple(hashable_filter(s.mutable) for s in roots),
      tuple(_hashable_flags(s.flags) for s in roots),
      tuple(ctr.freeze(s.rng_counters) for s in roots),
    )
    before = [ctr.snapshot(s.rng_counters) for s in roots]
    rng_groups = jax.tree_util.tree_map(lambda b: RngBox(b.rng, ()), rng_groups, is_leaf=_is_box)
    traced: list[bool] = []
    token = _TRACING.set(_TRACING.get() + ((scope_fn, repack_fn, traced),))
    try:
      out = compiled(fingerprint, key, variable_groups, rng_groups, *args, **kwargs)
    finally:
      _TRACING.reset(token)
    replay_key = _replay_key(fingerprint, key, args, kwargs, static_argnums)
    if traced:
      if replay_key is not None:
        deltas[replay_key] = [ctr.delta(s.rng_counters, b) for s, b in zip(roots, before)]
    elif replay_key in deltas:
      for s, d in zip(roots, deltas[replay_key]):
        ctr.apply_delta(s.rng_counters, d)
    return out

  lifted = pack(inner, (variables,), (variables,), (rngs,), name='jit', enable_kwargs=True,
                fork_rngs=fork_rngs)
  return lifted


def _is_box(x: Any) -> bool:
  return isinstance(x, RngBox)


def _replay_key(fingerprint, key, args, kwargs, static_argnums):
  statics = tuple(args[i - 4] for i in static_argnums if 0 <= i - 4 < len(args))
  try:
    rk = (fingerprint, key, statics, tuple(sorted(kwargs)))
    hash(rk)
    return rk
  except TypeError:
    return None


@set_module('flaxen.core.lift')
def jit(
  fn: Callable[..., Any],
  variables: Any = True,
  rngs: Any = True,
  static_argnums: int | Iterable[int] = (),
  static_argnames: str | Iterable[str] = (),
  donate_argnums: int | Iterable[int] = (),
  device: Any = None,
  backend: str | None = None,
) -> Callable[..., Any]:
  """Lifted ``jax.jit`` of ``fn(scope, *args)``.

  Args:
    fn: the function to compile.
    variables: filter of the collections lifted (default: all).
    rngs: filter of the RNG streams lifted (default: all); each is forked.
    static_argnums: positions of static arguments, counting the scope as 0.
    static_argnames: names of static keyword arguments.
    donate_argnums: positions of donated arguments, counting the scope as 0.
    device: see ``jax.jit``.
    backend: see ``jax.jit``.

  Returns:
    ``jitted(scope_tree, *args, **kwargs)``; calls with the same shapes, static
    values and scope layout reuse the compiled function.
  """
  with_key = jit_with_key(
    lambda scope, _key, *args, **kwargs: fn(scope, *args, **kwargs),
    variables, rngs, static_argnums, static_argnames, donate_argnums, device, backend,
  )

  @functools.wraps(fn)
  def wrapper(scope_tree, *args, **kwargs):
    return with_key(scope_tree, None, *args, **kwargs)

  return wrapper
