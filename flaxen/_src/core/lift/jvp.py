"""Lifted ``jax.jvp``: forward-mode derivatives of a function of scopes.

``variable_tangents`` gives, per scope, ``{collection: tangent tree}`` for the
collections to differentiate; a collection without tangents is held constant.
No tangents are returned for the variables themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def jvp(
  fn: Callable[..., Any],
  scope: Any,
  primals: Sequence[Any],
  tangents: Sequence[Any],
  variable_tangents: Any,
  variables: Any = True,
  rngs: Any = True,
) -> tuple[Any, Any]:
  """Lifted ``jax.jvp`` of ``fn(scope, *primals)``.

  Args:
    fn: the function to differentiate.
    scope: the scope (tree) whose variables may get tangents.
    primals: the inputs (a tuple or list).
    tangents: tangents of ``primals`` (same structure).
    variable_tangents: ``{collection: tangents}`` per scope (same tree as ``scope``).
    variables: filter of the other collections available inside.
    rngs: filter of the RNG streams available inside.

  Returns:
    ``(primals_out, tangents_out)``.
  """
  from flaxen._src.core.scope import Scope

  # Any: jaxlib ships no stub for PyTreeDef, so mypy cannot see its methods
  treedef: Any = jax.tree_util.tree_structure(scope, is_leaf=lambda x: isinstance(x, Scope))
  per_scope = treedef.flatten_up_to(variable_tangents)
  # Drop empty collections: {'params': {}} and {} are different pytrees to JAX.
  per_scope = tuple({k: v for k, v in vt.items() if jax.tree_util.tree_leaves(v)}
                    for vt in per_scope)
  target = tuple(sorted({k for vt in per_scope for k in vt}))

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    jvp_vars, other_vars = variable_groups
    missing = [
      (c, i) for i, (vt, vs) in enumerate(zip(per_scope, jvp_vars)) for c in vt if c not in vs
    ]
    if missing:
      raise ValueError(f'jvp: tangents given for collections that do not exist: {missing}')

    @functools.wraps(fn)
    def wrapper(vars_primals, args):
      inner_scope = scope_fn((vars_primals, other_vars), rng_groups)
      y = fn(inner_scope, *args)
      return y, repack_fn(inner_scope)

    (y, out_vars), out_tangents = jax.jvp(
      wrapper, (jvp_vars, tuple(args)), (per_scope, tuple(tangents))
    )
    return (y, out_tangents[0]), out_vars

  return pack(inner, (target, variables), (variables,), (rngs,), name='jvp')(scope, *primals)
