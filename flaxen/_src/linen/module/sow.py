"""``sow`` and ``perturb``: recording intermediate values in variable collections.

``sow(col, name, value)`` accumulates into ``col/name``: ``init_fn()`` gives the
start value (default: the empty tuple) and ``reduce_fn(acc, value)`` folds each
new value in (default: append to the tuple, so a module called twice yields a
2-tuple). When ``col`` is not mutable it does nothing and returns ``False``.

``perturb(name, value)`` returns ``value + collection/name`` where the variable
is a zero tree created when the collection is mutable (e.g. during ``init``).
Taking ``jax.grad`` with respect to that collection gives the gradient with
respect to the intermediate value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.public import set_module


@set_module('flaxen.linen.module')
def tuple_reduce(xs: tuple, x: Any) -> tuple:
  """Default ``reduce_fn`` of ``sow``: ``xs + (x,)``."""
  return xs + (x,)


@set_module('flaxen.linen.module')
def tuple_init() -> tuple:
  """Default ``init_fn`` of ``sow``: ``()``."""
  return ()



def _bound_scope(module: Any) -> Any:
  scope = module.scope
  if scope is None:
    raise ValueError("Can't store variables on unbound modules")
  return scope


def _claim(module: Any, scope: Any, col: str, name: str) -> None:
  """Reserves ``name`` in ``col`` for a value stored by ``sow``/``perturb``."""
  scope.reserve(name, col)
  module._state.record_child(name, col)


def sow(module: Any, col: str, name: str, value: Any,
        reduce_fn: Callable[[Any, Any], Any] = tuple_reduce,
        init_fn: Callable[[], Any] = tuple_init) -> bool:
  """Accumulates ``value`` into ``col/name`` of ``module`` (see module docstring).

  Returns:
    Whether the value was stored (``False`` when ``col`` is immutable).

  Raises:
    ValueError: ``module`` is unbound.
  """
  scope = _bound_scope(module)
  writable = scope.is_mutable_collection(col)
  if writable:
    first = not scope.has_variable(col, name)
    if first:
      _claim(module, scope, col, name)
    so_far = init_fn() if first else scope.get_variable(col, name)
    scope.put_variable(col, name, reduce_fn(so_far, value))
  return writable


def perturb(module: Any, name: str, value: Any, collection: str = 'perturbations') -> Any:
  """Returns ``value`` plus the zero variable ``collection/name`` (see module docstring).

  Raises:
    ValueError: ``module`` is unbound, or the collection was given without this variable.
  """
  scope = _bound_scope(module)
  present = scope.has_variable(collection, name)
  if not present and scope.is_mutable_collection(collection):
    _claim(module, scope, collection, name)
    scope.put_variable(collection, name, jax.tree_util.tree_map(jnp.zeros_like, value))
    present = True
  if collection not in scope.root._variables:
    return value  # no perturbations given (e.g. a plain apply): the identity
  if not present:
    raise ValueError(
      f'Perturbation collection {collection} present, but missing perturbation '
      f'variable {name} in "{scope.path_text}"'
    )
  return jax.tree_util.tree_map(jnp.add, value, scope.get_variable(collection, name))
