"""Lifted ``jax.value_and_grad``: a function of scopes and its gradient w.r.t. the inputs.

Variables are available inside (and may be updated) but are not differentiated;
use ``vjp`` with ``vjp_variables`` for gradients of variables. The gradient is
the vector-Jacobian product with a cotangent of ones (for a scalar output, the
gradient; Linen's ``nn.value_and_grad`` insists on a scalar).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.core.lift.pack import pack
from flaxen._src.core.lift.vjp import check_reduce_axes
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def value_and_grad(
  fn: Callable[..., Any],
  scope: Any,
  *primals: Any,
  has_aux: bool = False,
  reduce_axes: tuple = (),
  variables: Any = True,
  rngs: Any = True,
) -> Any:
  """Lifted ``jax.value_and_grad`` of ``fn(scope, *primals)`` w.r.t. ``primals``.

  Args:
    fn: returns a scalar (or ``(scalar, aux)`` with ``has_aux``).
    scope: the scope (tree) used inside.
    *primals: the inputs to differentiate.
    has_aux: ``fn`` returns ``(value, aux)``.
    reduce_axes: unsupported (must be empty).
    variables: filter of the collections available inside.
    rngs: filter of the RNG streams available inside.

  Returns:
    ``(value, grads)``, or ``(value, aux, grads)`` with ``has_aux``; ``grads``
    has one entry per primal.
  """
  check_reduce_axes(reduce_axes)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    @functools.wraps(fn)
    def wrapper(*args):
      inner_scope = scope_fn(variable_groups, rng_groups)
      if has_aux:
        y, aux = fn(inner_scope, *args)
      else:
        y, aux = fn(inner_scope, *args), ()
      return y, (aux, repack_fn(inner_scope))

    y, bwd, (aux, out_vars) = jax.vjp(wrapper, *args, has_aux=True)
    grads = bwd(jnp.ones_like(y))
    return ((y, aux, grads) if has_aux else (y, grads)), out_vars

  return pack(inner, (variables,), (variables,), (rngs,), name='value_and_grad')(
    scope, *primals
  )
