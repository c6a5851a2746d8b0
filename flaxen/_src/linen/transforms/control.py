"""Linen ``while_loop``, ``cond`` and ``switch`` (direct transforms of functions of a module).

Every branch (and the loop's condition and body) is a function ``fn(module,
*operands)`` or a method; it is traced on a clone of the module bound to the
lifted scopes, through ``bridge.lift_direct_transform``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_direct_transform
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict


@set_module('flaxen.linen')
def while_loop(cond_fn: Callable[[Any, Any], Any], body_fn: Callable[[Any, Any], Any], mdl: Any,
               init: Any, carry_variables: Any = False, broadcast_variables: Any = True,
               split_rngs: Mapping[Any, bool] = FrozenDict({})) -> Any:
  """Lifted ``lax.while_loop``; ``carry_variables`` are mutable (fixed shape), the rest read-only.

  Variables cannot be created in the body: call ``body_fn`` once during init first.
  """
  return lift_direct_transform(lift.while_loop, (cond_fn, body_fn), mdl, init, carry_variables,
                               broadcast_variables, split_rngs)


def _cond_in_scope(true_fn, false_fn, scope, pred, *operands, variables, rngs):
  return lift.cond(pred, true_fn, false_fn, scope, *operands, variables=variables, rngs=rngs)


@set_module('flaxen.linen')
def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], mdl: Any,
         *operands: Any, variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``lax.cond``; both branches are traced and must create the same variables."""
  return lift_direct_transform(_cond_in_scope, (true_fun, false_fun), mdl, pred, *operands,
                               variables=variables, rngs=rngs)


def _switch_in_scope(*fns_scope_index_operands, n_branches, variables, rngs):
  branches = fns_scope_index_operands[:n_branches]
  scope, index, *operands = fns_scope_index_operands[n_branches:]
  return lift.switch(index, branches, scope, *operands, variables=variables, rngs=rngs)


@set_module('flaxen.linen')
def switch(index: Any, branches: Sequence[Callable[..., Any]], mdl: Any, *operands: Any,
           variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``lax.switch``; every branch is traced and must create the same variables."""
  return lift_direct_transform(_switch_in_scope, tuple(branches), mdl, index, *operands,
                               n_branches=len(branches), variables=variables, rngs=rngs)
