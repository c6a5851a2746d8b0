"""Lifted ``jax.vjp``: reverse-mode derivatives of a function of scopes w.r.t. variables and inputs.

The collections matched by ``vjp_variables`` are differentiated; the others
(``variables``) are passed along without cotangents. The returned backward
function is a ``jax.tree_util.Partial`` (a pytree), so it can be returned as a
residual from a ``custom_vjp`` forward function; it gives
``(variable_cotangents, *input_cotangents)`` where ``variable_cotangents`` has
the structure of the scope tree (one ``{collection: tree}`` per scope).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core.lift.pack import pack
from flaxen._src.public import set_module


def _bwd(treedef, bwd_fn, cotangent):
  vars_ct, *inputs_ct = bwd_fn(cotangent)
  return (treedef.unflatten(vars_ct), *inputs_ct)


def _scope_treedef(scope: Any) -> Any:
  from flaxen._src.core.scope import Scope

  return jax.tree_util.tree_structure(scope, is_leaf=lambda x: isinstance(x, Scope))


def check_reduce_axes(reduce_axes: Any) -> None:
  if reduce_axes:
    raise ValueError('reduce_axes is not supported by this JAX version (jax.vjp dropped it).')


@set_module('flaxen.core.lift')
def vjp(
  fn: Callable[..., Any],
  scope: Any,
  *primals: Any,
  has_aux: bool = False,
  reduce_axes: tuple = (),
  vjp_variables: Any = 'params',
  variables: Any = True,
  rngs: Any = True,
) -> Any:
  """Lifted ``jax.vjp`` of ``fn(scope, *primals)``.

  Args:
    fn: the function to differentiate.
    scope: the scope (tree) whose ``vjp_variables`` are differentiated.
    *primals: the inputs.
    has_aux: ``fn`` returns ``(output, aux)``.
    reduce_axes: unsupported (must be empty).
    vjp_variables: filter of the differentiated collections.
    variables: filter of the other collections available inside.
    rngs: filter of the RNG streams available inside.

  Returns:
    ``(out, vjp_fn)`` or ``(out, vjp_fn, aux)``; ``vjp_fn(ct)`` returns
    ``(variable_cotangents, *input_cotangents)``.
  """
  check_reduce_axes(reduce_axes)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    vjp_vars, other_vars = variable_groups

    @functools.wraps(fn)
    def wrapper(vjp_vars, *args):
      inner_scope = scope_fn((vjp_vars, other_vars), rng_groups)
      if has_aux:
        y, aux = fn(inner_scope, *args)
      else:
        y, aux = fn(inner_scope, *args), ()
      return y, (aux, repack_fn(inner_scope))

    y, bwd, (aux, out_vars) = jax.vjp(wrapper, vjp_vars, *args, has_aux=True)
    bwd = jax.tree_util.Partial(functools.partial(_bwd, _scope_treedef(scope)), bwd)
    return ((y, bwd, aux) if has_aux else (y, bwd)), out_vars

  return pack(inner, (vjp_variables, variables), (variables,), (rngs,), name='vjp')(
    scope, *primals
  )
