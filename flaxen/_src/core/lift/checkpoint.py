"""Lifted ``jax.checkpoint`` (``remat``): recompute a function of scopes on the backward pass.

The variables and RNG keys enter the checkpointed function as arguments, so the
saved residuals are only the inputs; the traced function contains a
``checkpoint`` (remat) primitive. ``static_argnums`` index ``fn``'s arguments
after the scope (``0`` is the first argument after the scope).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def checkpoint(
  fn: Callable[..., Any],
  variables: Any = True,
  rngs: Any = True,
  concrete: bool = False,
  prevent_cse: bool = True,
  static_argnums: int | tuple[int, ...] = (),
  policy: Callable[..., bool] | None = None,
) -> Callable[..., Any]:
  """Lifted ``jax.checkpoint`` of ``fn(scope, *args, **kwargs)``.

  Args:
    fn: the function whose intermediates are recomputed.
    variables: filter of the lifted collections (default: all).
    rngs: filter of the lifted RNG streams (default: all).
    concrete: unsupported by current JAX; must be ``False``.
    prevent_cse: see ``jax.checkpoint``.
    static_argnums: positions (after the scope) of static arguments.
    policy: a ``jax.checkpoint_policies`` policy.

  Returns:
    ``rematted(scope_tree, *args, **kwargs)``.

  Raises:
    ValueError: ``concrete=True`` (removed from ``jax.checkpoint``).
  """
  if concrete:
    raise ValueError(
      'remat/checkpoint(concrete=True) is not supported by this JAX version; use '
      'static_argnums for arguments that drive Python control flow.'
    )
  if isinstance(static_argnums, int):
    static_argnums = (static_argnums,)
  shifted = tuple(i + 2 for i in static_argnums)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args, **kwargs):
    @functools.partial(jax.checkpoint, prevent_cse=prevent_cse, policy=policy,
                       static_argnums=shifted)
    @functools.wraps(fn)
    def rematted(variable_groups, rng_groups, *args, **kwargs):
      scope = scope_fn(variable_groups, rng_groups)
      y = fn(scope, *args, **kwargs)
      return y, repack_fn(scope)

    return rematted(variable_groups, rng_groups, *args, **kwargs)

  return pack(inner, (variables,), (variables,), (rngs,), name='remat', enable_kwargs=True)


remat = checkpoint
