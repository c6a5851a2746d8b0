"""Lifted ``jax.lax.while_loop`` over functions of scopes.

``carry_variables`` collections are threaded through the iterations (mutable,
fixed shape: they cannot be created in the body); ``broadcast_variables`` are
read-only. Streams in ``split_rngs`` get ``fold_in(base, i)`` in iteration
``i`` when split (and ``fold_in(base, -i)`` in the condition); the others are
shared by all iterations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.core.lift.axes import unzip2
from flaxen._src.core.lift.pack import map_rngs, pack
from flaxen._src.core.lift.scan import _add_back, _check_carry
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def while_loop(
  cond_fn: Callable[[Any, Any], Any],
  body_fn: Callable[[Any, Any], Any],
  scope: Any,
  init: Any,
  carry_variables: Any = False,
  broadcast_variables: Any = True,
  split_rngs: Mapping[Any, bool] | None = None,
) -> Any:
  """Lifted ``lax.while_loop``.

  Args:
    cond_fn: ``cond_fn(scope, carry) -> bool`` (variables read-only).
    body_fn: ``body_fn(scope, carry) -> carry``.
    scope: the scope (tree) lifted into the loop.
    init: the initial carry.
    carry_variables: filter of the carried (mutable) collections.
    broadcast_variables: filter of the read-only collections.
    split_rngs: ``{stream filter: whether to fold the iteration index in}``.

  Returns:
    The final carry.
  """
  rng_filters, rng_splits = unzip2(split_rngs or {})

  def inner(scope_fn, repack_fn, variable_groups, rng_groups):
    carried_in, read_only = variable_groups
    paths = scope_fn.root_paths

    def streams_at(step):
      # split streams see the iteration index folded in (negated for the condition)
      return tuple(map_rngs(lambda k: jax.random.fold_in(k, step), g) if split else g
                   for g, split in zip(rng_groups, rng_splits))

    def keep_going(state):
      step, carried, value = state
      return cond_fn(scope_fn((carried, read_only), streams_at(-step), mutable_filter=False),
                     value)

    def one_step(state):
      step, carried, value = state
      body_scope = scope_fn((carried, read_only), streams_at(step))
      value = body_fn(body_scope, value)
      updated = _add_back(carried, repack_fn(body_scope)[0])
      _check_carry(carried, updated, paths)
      return step + 1, updated, value

    _, carried_out, result = jax.lax.while_loop(keep_going, one_step, (0, carried_in, init))
    return result, (carried_out,)

  return pack(
    inner, (carry_variables, broadcast_variables), (carry_variables,), rng_filters,
    name='while_loop',
  )(scope)
