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


def append(xs: tuple, x: Any) -> tuple:
  """Default ``reduce_fn`` of ``sow``: ``xs + (x,)``."""
  return xs + (x,)


def empty_tuple() -> tuple:
  """Default ``init_fn`` of ``sow``: ``()``."""
  return ()


def sow(module: Any, col: str, name: str, value: Any,
        reduce_fn: Callable[[Any, Any], Any] = append,
        init_fn: Callable[[], Any] = empty_tuple) -> bool:
  """Accumulates ``value`` into ``col/name`` of ``module`` (see module docstring).

  Returns:
    Whether the value was stored (``False`` when ``col`` is immutable).

  Raises:
    ValueError: ``module`` is unbound.
  """
  scope = module.scope
  if scope is None:
    raise ValueError("Can't store variables on unbound modules")
  if not scope.is_mutable_collection(col):
    return False
  if scope.has_variable(col, name):
    xs = scope.get_variable(col, name)
  else:
    scope.reserve(name, col)
    module._state.record_child(name, col)
    xs = init_fn()
  scope.put_variable(col, name, reduce_fn(xs, value))
  return True


def perturb(module: Any, name: str, value: Any, collection: str = 'perturbations') -> Any:
  """Returns ``value`` plus the zero variable ``collection/name`` (see module docstring).

  Raises:
    ValueError: ``module`` is unbound, or the collection was given without this variable.
  """
  scope = module.scope
  if scope is None:
    raise ValueError("Can't store variables on unbound modules")
  if scope.is_mutable_collection(collection) and not scope.has_variable(collection, name):
    scope.reserve(name, collection)
    module._state.record_child(name, collection)
    scope.put_variable(collection, name, jax.tree_util.tree_map(jnp.zeros_like, value))
  if collection in scope.root._variables:
    if not scope.has_variable(collection, name):
      raise ValueError(
        f'Perturbation collection {collection} present, but missing perturbation '
        f'variable {name} in "{scope.path_text}"'
      )
    value = jax.tree_util.tree_map(jnp.add, value, scope.get_variable(collection, name))
  return value
