"""Linen ``vjp``, ``jvp``, ``grad``, ``value_and_grad`` and ``custom_vjp`` (direct transforms).

Each takes a function ``fn(module, *args)`` (or a method) and the module to
lift, and runs at once through ``bridge.lift_direct_transform``. ``vjp``
(unless ``multi_scope=True``), ``jvp`` and ``custom_vjp`` lift the module's own
scope only, so their variable cotangents/tangents are one ``{collection:
tree}``; ``value_and_grad`` differentiates the inputs only and so accepts
modules that hold other bound modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import decorator_lift_transform, lift_direct_transform
from flaxen._src.public import set_module


def _no_reduce_axes(reduce_axes: Any, name: str) -> None:
  if reduce_axes:
    raise NotImplementedError(f'reduce_axes argument to {name} is deprecated')


@set_module('flaxen.linen')
def vjp(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
        reduce_axes: tuple = (), vjp_variables: Any = 'params', variables: Any = True,
        rngs: Any = True, multi_scope: bool = False) -> Any:
  """Lifted ``jax.vjp``: returns ``(out, vjp_fn)`` (``+ aux``); ``vjp_fn(ct)`` gives
  ``(variable_grads, *input_grads)``.

  With ``multi_scope=True`` a module holding (or given) other bound modules is
  allowed; the variable cotangents are then a list, one per lifted scope.
  """
  _no_reduce_axes(reduce_axes, 'vjp')
  return lift_direct_transform(
    lift.vjp, (fn,), mdl, *primals, multi_scope=multi_scope, has_aux=has_aux,
    vjp_variables=vjp_variables, variables=variables, rngs=rngs,
  )


@set_module('flaxen.linen')
def jvp(fn: Callable[..., Any], mdl: Any, primals: Any, tangents: Any, variable_tangents: Any,
        variables: Any = True, rngs: Any = True) -> tuple[Any, Any]:
  """Lifted ``jax.jvp``: returns ``(primals_out, tangents_out)``."""
  return lift_direct_transform(
    lift.jvp, (fn,), mdl, primals, tangents, variable_tangents, multi_scope=False,
    variables=variables, rngs=rngs,
  )


def _scalar(out: Any) -> None:
  shape = np.shape(out)
  if shape != ():
    raise ValueError(
      f'grad can only work on functions with scalar-valued outputs. out shape={shape}'
    )


@set_module('flaxen.linen')
def value_and_grad(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
                   reduce_axes: tuple = (), variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``jax.value_and_grad`` w.r.t. the inputs: ``(value, grads)`` (``grads``: one
  per primal), or ``((value, aux), grads)``.

  Raises:
    ValueError: ``fn``'s output is not a scalar.
  """
  _no_reduce_axes(reduce_axes, 'value_and_grad')
  result = lift_direct_transform(
    lift.value_and_grad, (fn,), mdl, *primals, has_aux=has_aux, variables=variables, rngs=rngs,
  )
  if has_aux:
    out, aux, grads = result
    _scalar(out)
    return (out, aux), grads
  out, grads = result
  _scalar(out)
  return out, grads


@set_module('flaxen.linen')
def grad(fn: Callable[..., Any], mdl: Any, *primals: Any, has_aux: bool = False,
         reduce_axes: tuple = (), variables: Any = True, rngs: Any = True) -> Any:
  """Lifted ``jax.grad`` w.r.t. the inputs: the gradients (``(grads, aux)`` with ``has_aux``)."""
  value, grads = value_and_grad(fn, mdl, *primals, has_aux=has_aux, reduce_axes=reduce_axes,
                                variables=variables, rngs=rngs)
  return (grads, value[1]) if has_aux else grads


@set_module('flaxen.linen')
def custom_vjp(fn: Callable[..., Any], forward_fn: Callable[..., Any],
               backward_fn: Callable[..., Any], grad_vars: Any = 'params',
               nondiff_argnums: tuple[int, ...] = ()) -> Callable[..., Any]:
  """Lifted ``jax.custom_vjp``: returns ``f(mdl, *args)`` using ``forward_fn``/``backward_fn``
  for its derivative (``backward_fn(*nondiff, residuals, ct) -> (vars_ct, *args_ct)``)."""

  def transform(core_fn, core_fwd):
    return lift.custom_vjp(core_fn, core_fwd, backward_fn, grad_vars=grad_vars,
                           nondiff_argnums=nondiff_argnums)

  return decorator_lift_transform(transform, (fn, forward_fn), multi_scope=False)
