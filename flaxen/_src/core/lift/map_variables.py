"""``map_variables``: transform some collections on the way into (and out of) a function of scopes.

``trans_in_fn`` maps the ``mapped_collections`` before ``fn`` sees them (e.g. a
causal mask on a kernel, a transposed kernel for weight tying);
``trans_out_fn`` maps them back when they are written (``init`` or
``mutable``). With ``init=True``, ``fn`` first runs on the unmapped variables
so it can create them, then again on the mapped ones.

``swap_collection`` is ``map_variables`` exchanging two collections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core.filters import subtract_filters
from flaxen._src.core.lift.pack import pack
from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import freeze


def _identity(x: Any) -> Any:
  return x


def _has_mutable(scopes: Any) -> bool:
  leaves = jax.tree_util.tree_leaves(scopes, is_leaf=lambda x: isinstance(x, Scope))
  return any(s.mutable is not False and s.mutable != () for s in leaves)


@set_module('flaxen.core.lift')
def map_variables(
  fn: Callable[..., Any],
  mapped_collections: Any,
  map_in_fn: Callable[[Any], Any] = _identity,
  map_out_fn: Callable[[Any], Any] = _identity,
  init: bool = False,
  mutable: bool = False,
  rngs: Any = True,
  variables: Any = True,
) -> Callable[..., Any]:
  """Maps ``mapped_collections`` with ``map_in_fn``/``map_out_fn`` around ``fn(scope, *args)``.

  Args:
    fn: the function of scopes.
    mapped_collections: filter of the mapped collections.
    map_in_fn: ``{collection: tree} -> {collection: tree}`` applied before ``fn``.
    map_out_fn: its inverse, applied to the collections written by ``fn``.
    init: run ``fn`` on the unmapped variables first, so it can create them.
    mutable: the mapped collections may be updated by ``fn``.
    rngs: filter of the lifted RNG streams.
    variables: filter of the other lifted collections.

  Returns:
    ``wrapper(scope_tree, *args, **kwargs)``.
  """
  is_target_out = bool(mutable or init)
  in_vars = (mapped_collections, variables)
  out_vars = in_vars if is_target_out else (False, subtract_filters(variables, mapped_collections))

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args, **kwargs):
    target, rest = variable_groups
    if init:
      scopes = scope_fn((target, rest), rng_groups)
      if _has_mutable(scopes):
        fn(scopes, *args, **kwargs)
        target, _ = repack_fn(scopes)
        target = tuple(map_out_fn(x) for x in target)
    target = tuple(map_in_fn(x) for x in target)
    if not is_target_out:
      target = tuple(freeze(x) for x in target)
    scopes = scope_fn((target, rest), rng_groups)
    y = fn(scopes, *args, **kwargs)
    out_target, out_rest = repack_fn(scopes)
    if is_target_out:
      out_target = tuple(map_out_fn(x) for x in out_target)
    return y, (out_target, out_rest)

  return pack(inner, in_vars, out_vars, (rngs,), name='map_variables', enable_kwargs=True)


@set_module('flaxen.core.lift')
def swap_collection(fn: Callable[..., Any], col_a: str, col_b: str) -> Callable[..., Any]:
  """Runs ``fn(scope, ...)`` with collections ``col_a`` and ``col_b`` exchanged."""

  def swap(target):
    target = dict(target)
    a = target.get(col_a, {})
    b = target.get(col_b, {})
    target[col_b], target[col_a] = a, b
    return target

  return map_variables(fn, (col_a, col_b), swap, swap, init=True, mutable=True)
