"""Lifted ``jax.lax.cond`` and ``jax.lax.switch`` over functions of scopes.

Every branch is traced (each on a fresh scope built from the same variables and
RNG streams); the branches must return the same pytree and create or update
variables with the same structure. RNG counters are shared, so a branch traced
later continues the counters of the one traced before it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


def _branch(scope_fn, repack_fn, variable_groups, rng_groups, branch_fn, *args):
  scope = scope_fn(variable_groups, rng_groups)
  y = branch_fn(scope, *args)
  return y, repack_fn(scope)


@set_module('flaxen.core.lift')
def cond(
  pred: Any,
  true_fun: Callable[..., Any],
  false_fun: Callable[..., Any],
  scope: Any,
  *operands: Any,
  variables: Any = True,
  rngs: Any = True,
) -> Any:
  """Lifted ``lax.cond``: ``true_fun(scope, *operands)`` if ``pred`` else ``false_fun(...)``.

  Args:
    pred: a boolean scalar.
    true_fun: the branch taken when ``pred`` is true.
    false_fun: the other branch.
    scope: the scope (tree) passed to the branches.
    *operands: the branches' other arguments.
    variables: filter of the lifted collections.
    rngs: filter of the lifted RNG streams.

  Returns:
    The result of the selected branch.
  """

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    branch = functools.partial(_branch, scope_fn, repack_fn, variable_groups, rng_groups)
    return jax.lax.cond(
      pred, functools.partial(branch, true_fun), functools.partial(branch, false_fun), *args
    )

  return pack(inner, (variables,), (variables,), (rngs,), name='cond')(scope, *operands)


@set_module('flaxen.core.lift')
def switch(
  index: Any,
  branches: Sequence[Callable[..., Any]],
  scope: Any,
  *operands: Any,
  variables: Any = True,
  rngs: Any = True,
) -> Any:
  """Lifted ``lax.switch``: ``branches[index](scope, *operands)`` (index clamped).

  Args:
    index: an integer scalar.
    branches: the functions to choose from.
    scope: the scope (tree) passed to the branches.
    *operands: the branches' other arguments.
    variables: filter of the lifted collections.
    rngs: filter of the lifted RNG streams.

  Returns:
    The result of the selected branch.
  """

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    branch = functools.partial(_branch, scope_fn, repack_fn, variable_groups, rng_groups)
    return jax.lax.switch(index, [functools.partial(branch, b) for b in branches], *args)

  return pack(inner, (variables,), (variables,), (rngs,), name='switch')(scope, *operands)
