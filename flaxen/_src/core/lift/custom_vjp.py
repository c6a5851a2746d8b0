"""Lifted ``jax.custom_vjp``: a function of scopes with a user-defined backward pass.

``forward_fn(scope, *args) -> (out, residuals)`` runs when a derivative is
taken; ``backward_fn(*nondiff_args, residuals, out_cotangent)`` returns
``(variable_cotangents, *input_cotangents)``, where ``variable_cotangents``
covers the ``grad_vars`` collections with the structure of the scope tree. The
scope is not available in the backward pass: put what it needs into the
residuals (e.g. the ``vjp_fn`` of a lifted ``vjp``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def custom_vjp(
  fn: Callable[..., Any],
  forward_fn: Callable[..., Any],
  backward_fn: Callable[..., Any],
  grad_vars: Any = 'params',
  nondiff_argnums: tuple[int, ...] = (),
) -> Callable[..., Any]:
  """Lifted ``jax.custom_vjp``.

  Args:
    fn: ``fn(scope, *args)``, used when no derivative is taken.
    forward_fn: ``forward_fn(scope, *args) -> (out, residuals)``.
    backward_fn: ``backward_fn(*nondiff_args, residuals, ct) -> (vars_ct, *args_ct)``.
    grad_vars: filter of the differentiated collections.
    nondiff_argnums: positions in ``fn``'s signature (the scope is 0) of
      arguments that get no cotangent; they are passed to ``backward_fn``.

  Returns:
    ``f(scope_tree, *args)``.
  """
  from flaxen._src.core.scope import Scope

  nondiff = tuple(nondiff_argnums)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    grad_variables, other_variables = variable_groups
    treedef_box: list[Any] = []

    def f(grad_variables, *args):
      scope = scope_fn((grad_variables, other_variables), rng_groups)
      y = fn(scope, *args)
      return y, repack_fn(scope)

    def f_fwd(grad_variables, *args):
      scopes = scope_fn((grad_variables, other_variables), rng_groups)
      treedef_box.append(
        jax.tree_util.tree_structure(scopes, is_leaf=lambda x: isinstance(x, Scope))
      )
      y, res = forward_fn(scopes, *args)
      return (y, repack_fn(scopes)), res

    def f_bwd(*bwd_args):
      nondiff_args = bwd_args[:-2]
      res, (g_y, _) = bwd_args[-2:]
      var_t, *inputs_t = backward_fn(*nondiff_args, res, g_y)
      var_t = tuple(treedef_box[-1].flatten_up_to(var_t))
      return (var_t, *inputs_t)

    cf = jax.custom_vjp(f, nondiff_argnums=nondiff)
    cf.defvjp(f_fwd, f_bwd)
    return cf(grad_variables, *args)

  return pack(inner, (grad_vars, True), (grad_vars, True), (True,), name='custom_vjp')
