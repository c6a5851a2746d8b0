"""Linen ``while_loop``, ``cond`` and ``switch`` (direct transforms of functions of a module)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_direct
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict


@set_module('flaxen.linen')
def while_loop(cond_fn: Callable[[Any, Any], Any], body_fn: Callable[[Any, Any], Any], mdl: Any,
               init: Any, carry_variables: Any = False, broadcast_variables: Any = True,
               split_rngs: Mapping[Any, bool] = FrozenDict({})) -> Any:
  """Lifted ``lax.while_loop``; ``carry_variables`` are mutable (fixed shape), the rest read-only.

  Variables cannot be created in the body: call ``body_fn`` once during init first.
  """

  def transform(core_cond, core_body):
    def run(scope, carry):
      return lift.while_loop(core_cond, core_body, scope, carry, carry_variables,
                             broadcast_variables, split_rngs)

    return run

  return lift_direct(transform, (cond_fn, body_fn), mdl, (init,))


@set_module('flaxen.linen')
def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], mdl: Any,
         *operands: Any, variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``lax.cond``; both branches are traced and must create the same variables."""

  def transform(core_true, core_false):
    def run(scope, *args):
      return lift.cond(pred, core_true, core_false, scope, *args, variables=variables,
                       rngs=rngs)

    return run

  return lift_direct(transform, (true_fun, false_fun), mdl, operands)


@set_module('flaxen.linen')
def switch(index: Any, branches: Sequence[Callable[..., Any]], mdl: Any, *operands: Any,
           variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``lax.switch``; every branch is traced and must create the same variables."""

  def transform(*core_branches):
    def run(scope, *args):
      return lift.switch(index, core_branches, scope, *args, variables=variables, rngs=rngs)

    return run

  return lift_direct(transform, tuple(branches), mdl, operands)
