"""Linen ``vjp``, ``jvp``, ``grad``, ``value_and_grad`` and ``custom_vjp`` (direct transforms).

Each takes a function ``fn(module, *args)`` and the module to lift, and runs at
once; only the module's own scope is lifted (``multi_scope=False``), so the
variable cotangents/tangents are plain ``{collection: tree}`` dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_direct
from flaxen._src.public import set_module


@set_module('flaxen.linen')
def vjp(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
        reduce_axes: tuple = (), vjp_variables: Any = 'params', variables: Any = True,
        rngs: Any = True, multi_scope: bool = False) -> Any:
  """Lifted ``jax.vjp``: returns ``(out, vjp_fn)`` (``+ aux``); ``vjp_fn(ct)`` gives
  ``(variable_grads, *input_grads)``."""

  def transform(core_fn):
    return functools.partial(lift.vjp, core_fn, has_aux=has_aux, reduce_axes=reduce_axes,
                             vjp_variables=vjp_variables, variables=variables, rngs=rngs)

  return lift_direct(transform, (fn,), mdl, primals, multi_scope=multi_scope)


@set_module('flaxen.linen')
def jvp(fn: Callable[..., Any], mdl: Any, primals: Any, tangents: Any, variable_tangents: Any,
        variables: Any = True, rngs: Any = True) -> tuple[Any, Any]:
  """Lifted ``jax.jvp``: returns ``(primals_out, tangents_out)``."""

  def transform(core_fn):
    def run(scope, primals, tangents):
      return lift.jvp(core_fn, scope, primals, tangents, variable_tangents, variables=variables,
                      rngs=rngs)

    return run

  return lift_direct(transform, (fn,), mdl, (primals, tangents), multi_scope=False)


@set_module('flaxen.linen')
def value_and_grad(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
                   reduce_axes: tuple = (), variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``jax.value_and_grad`` w.r.t. the inputs: ``(value, grads)`` (``grads``: one
  per primal), or ``((value, aux), grads)``."""

  def transform(core_fn):
    return functools.partial(lift.value_and_grad, core_fn, has_aux=has_aux,
                             reduce_axes=reduce_axes, variables=variables, rngs=rngs)

  return lift_direct(transform, (fn,), mdl, primals, multi_scope=False)


@set_module('flaxen.linen')
def grad(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
         reduce_axes: tuple = (), variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``jax.grad`` w.r.t. the inputs: the gradients (``(grads, aux)`` with ``has_aux``)."""
  value, grads = value_and_grad(fn, mdl, *primals, has_aux=has_aux, reduce_axes=reduce_axes,
                                variables=variables, rngs=rngs)
  if has_aux:
    return grads, value[1]
  return grads


@set_module('flaxen.linen')
def custom_vjp(fn: Callable[..., Any], forward_fn: Callable[..., Any],
               backward_fn: Callable[..., Any], grad_vars: Any = 'params',
               nondiff_argnums: tuple[int, ...] = ()) -> Callable[..., Any]:
  """Lifted ``jax.custom_vjp``: returns ``f(mdl, *args)`` using ``forward_fn``/``backward_fn``
  for its derivative (``backward_fn(*nondiff, residuals, ct) -> (vars_ct, *args_ct)``)."""

  def transform(core_fn, core_fwd):
    return lift.custom_vjp(core_fn, core_fwd, backward_fn, grad_vars=grad_vars,
                           nondiff_argnums=nondiff_argnums)

  def wrapped(mdl, *args):
    return lift_direct(transform, (fn, forward_fn), mdl, args, multi_scope=False)

  return wrapped
