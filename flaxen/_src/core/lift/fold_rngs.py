"""``fold_rngs``: run a function of scopes on freshly forked RNG streams (no JAX transform).

Each call draws one key per lifted stream with ``make_rng`` on the transformed
scope; inside, that key is the base of the stream with an empty path, and the
counters continue from the scope's counters (golden RNG rule 8). Repeated calls
therefore see different keys even though the scope path does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def fold_rngs(fn: Callable[..., Any], variables: Any = True, rngs: Any = True) -> Callable[..., Any]:
  """Wraps ``fn(scope, *args, **kwargs)`` so its RNG streams are forked per call.

  Args:
    fn: the function of scopes.
    variables: filter of the lifted collections.
    rngs: filter of the forked streams.

  Returns:
    ``wrapper(scope_tree, *args, **kwargs)``.
  """

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args, **kwargs):
    scope = scope_fn(variable_groups, rng_groups)
    y = fn(scope, *args, **kwargs)
    return y, repack_fn(scope)

  return pack(inner, (variables,), (variables,), (rngs,), name='fold_rngs', enable_kwargs=True,
              fork_rngs=True)
