"""``named_call``: run a function of scopes under ``jax.named_call`` (a named sub-computation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def named_call(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
  """Wraps ``fn(scope, *args, **kwargs)`` in ``jax.named_call(..., name=name)``.

  Returns:
    ``wrapper(scope_tree, *args, **kwargs)``.
  """

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, args, kwargs):
    def named(variable_groups, rng_groups):
      scope = scope_fn(variable_groups, rng_groups)
      y = fn(scope, *args, **kwargs)
      return y, repack_fn(scope)

    return jax.named_call(named, name=name)(variable_groups, rng_groups)

  lifted = pack(inner, (True,), (True,), (True,), name='named_call')

  def wrapper(scope_tree, *args, **kwargs):
    return lifted(scope_tree, args, kwargs)

  return wrapper
