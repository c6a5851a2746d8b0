"""``pack``: the single primitive every lifted transform is built on.

A lifted transform runs a function of scopes, ``fn(scope_tree, *args)``, inside
a JAX transform. JAX only sees arrays, so ``pack`` takes the scopes apart on the
way in and puts them back together inside the transform:

1. **De-duplication.** Only *root* scopes are lifted: a scope whose ancestor is
   lifted too is rebuilt later from that ancestor and its relative path.
2. **Filter stage.** Each root's collections are split into *variable groups*
   (one dict per ``in_variable_filters`` entry, a collection goes to the first
   filter that matches it) and its RNG streams into *rng groups*
   (``rng_filters``). Unmatched collections and streams are not lifted.
3. **Transform.** The transform body ``fn(scope_fn, repack_fn, variable_groups,
   rng_groups, *args)`` passes the groups through its JAX transform. Groups are
   tuples (one entry per filter) of tuples (one entry per root scope).
4. **Scope reconstruction.** ``scope_fn(variable_groups, rng_groups)`` builds
   fresh root scopes from the (transformed) groups; they share the RNG counters
   of the scopes they stand for, so key derivation continues seamlessly.
5. **Repack.** ``repack_fn(scopes)`` returns the mutable collections grouped by
   ``out_variable_filters``. Keys come back sorted (as JAX's dict flattening
   would return them), so every lifted transform commits in the same order.
6. **Commit.** The repacked variables are written into the original scopes.

RNG groups hold ``RngBox`` values, a pytree whose only leaf is the base key and
whose static part is the path suffix (see ``rng.py``). Transforms may split or
fold the base key (``map_rngs``) without touching the path. With
``fork_rngs=True`` (``jit``, ``fold_rngs``) each lifted stream is first replaced
by a fresh key from ``scope.make_rng(stream)`` with an empty path.

``scope_fn`` also carries, as attributes, ``roots`` (the lifted root scopes),
``root_paths`` (their path texts, for error messages) and ``layout`` (the scope
tree structure and relative paths, part of ``jit``'s cache key).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import jax

from flaxen._src.core.filters import (
  Filter,
  group_collections,
  in_filter,
  intersect_filters,
  union_filters,
)
from flaxen._src.core.rng import LazyRng
from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

__all__ = ['pack', 'RngBox', 'map_rngs', 'sorted_tree', 'transpose']


class RngBox:
  """A lifted RNG stream: base key ``rng`` (the pytree leaf) and static path ``suffix``."""

  __slots__ = ('rng', 'suffix')

  def __init__(self, rng: Any, suffix: tuple = ()):
    self.rng = rng
    self.suffix = suffix

  def __repr__(self) -> str:
    return f'RngBox({self.rng!r}, suffix={self.suffix!r})'


jax.tree_util.register_pytree_node(
  RngBox, lambda b: ((b.rng,), b.suffix), lambda suffix, xs: RngBox(xs[0], suffix)
)


def _is_box(x: Any) -> bool:
  return isinstance(x, RngBox)


def map_rngs(fn: Callable[[Any], Any], rng_groups: Any) -> Any:
  """Applies ``fn`` to the base key of every ``RngBox`` in ``rng_groups`` (paths kept)."""
  return jax.tree_util.tree_map(lambda b: RngBox(fn(b.rng), b.suffix), rng_groups, is_leaf=_is_box)


def transpose(xs: Sequence[Sequence[Any]]) -> tuple[tuple[Any, ...], ...]:
  """Swaps the two outer levels of a tuple of tuples."""
  return tuple(zip(*xs))


def sorted_tree(x: Any) -> Any:
  """Copies nested dicts with their keys sorted (what a JAX pytree round trip does)."""
  if isinstance(x, dict | FrozenDict):
    try:
      keys = sorted(x.keys())
    except TypeError:
      keys = list(x.keys())
    return {k: sorted_tree(x[k]) for k in keys}
  return x


def _copy_dicts(x: Any) -> Any:
  """Copies the dict structure (not the leaves) so writes inside cannot leak out."""
  if isinstance(x, dict | FrozenDict):
    return {k: _copy_dicts(v) for k, v in x.items()}
  return x


def _anchor(scope: Scope, members: dict) -> tuple[Scope, tuple[str, ...]]:
  """The outermost ancestor of ``scope`` in ``members`` (else ``scope``) and the names down to it."""
  best = scope
  below: tuple[str, ...] = ()
  names: list[str] = []
  node = scope
  while node.parent is not None:
    names.insert(0, cast(str, node.name))  # a scope with a parent has a name
    node = node.parent
    if node in members:
      best, below = node, tuple(names)
  return best, below


def _dedup_scopes(scopes: Sequence[Scope]):
  """``(roots, [(root, names from root down) per scope])``: only roots are lifted.

  A scope whose ancestor is lifted too is rebuilt inside from that ancestor;
  roots keep the order in which they were first given.
  """
  members = dict.fromkeys(scopes)
  placed = tuple(_anchor(s, members) for s in scopes)
  roots = tuple(s for s in members if _anchor(s, members)[0] is s)
  return roots, placed


def _dup_scopes(roots, inner_roots, placed):
  """The inner scope standing for each ``placed`` entry (children re-pushed by name)."""
  inner_of = dict(zip(roots, inner_roots))
  return [functools.reduce(lambda s, name: s.push(name, reuse=True), below, inner_of[root])
          for root, below in placed]


def _is_scope(x: Any) -> bool:
  return isinstance(x, Scope)


def _root_variables(scope: Scope) -> dict[str, Any]:
  scope._populate_collections()
  return {k: v for k, v in scope._variables.items() if v}


@set_module('flaxen.core.lift')
def pack(
  fn: Callable[..., Any],
  in_variable_filters: Sequence[Filter],
  out_variable_filters: Sequence[Filter],
  rng_filters: Sequence[Filter],
  name: str | None = None,
  enable_kwargs: bool = False,
  fork_rngs: bool = False,
) -> Callable[..., Any]:
  """Lifts ``fn`` (a transform body) to a function of a scope tree.

  Args:
    fn: ``fn(scope_fn, repack_fn, variable_groups, rng_groups, *args)`` returning
      ``(result, repacked_variable_groups)``.
    in_variable_filters: one filter per variable group passed in.
    out_variable_filters: one filter per variable group expected back; only
      collections matching one of them may be mutable inside.
    rng_filters: one filter per rng group.
    name: the transform's name (shown in scope debug paths).
    enable_kwargs: forward keyword arguments to ``fn``.
    fork_rngs: seed every lifted stream with ``scope.make_rng(stream)``.

  Returns:
    ``wrapper(scope_tree, *args, **kwargs)`` returning ``fn``'s result after the
    repacked variables have been committed to the scopes.
  """
  in_variable_filters = tuple(in_variable_filters)
  out_variable_filters = tuple(out_variable_filters)
  rng_filters = tuple(rng_filters)
  out_union: Filter = False
  for f in out_variable_filters:
    out_union = union_filters(out_union, f)

  @functools.wraps(fn)
  def wrapper(scope_tree, *args, **kwargs):
    if kwargs and not enable_kwargs:
      raise TypeError(f'Keyword arguments are not supported by this lifted transform: {kwargs}')
    treedef: Any  # jaxlib ships no stub for PyTreeDef: mypy cannot see its methods
    scopes, treedef = jax.tree_util.tree_flatten(scope_tree, is_leaf=_is_scope)
    roots, paths = _dedup_scopes(scopes)

    variable_groups_xs = []
    rng_groups_xs = []
    for scope in roots:
      scope._check_valid()
      groups = group_collections(_root_variables(scope), in_variable_filters)
      variable_groups_xs.append(groups)
      rng_groups = group_collections(scope.rngs, rng_filters)
      if fork_rngs:
        rng_groups = tuple(
          {k: RngBox(scope.make_rng(k), ()) for k in group} for group in rng_groups
        )
      else:
        rng_groups = tuple(
          {k: RngBox(r.rng, r.suffix) for k, r in group.items()} for group in rng_groups
        )
      rng_groups_xs.append(rng_groups)
    variable_groups_t = transpose(variable_groups_xs)
    rng_groups_t = transpose(rng_groups_xs)

    inner_scopes: list[Scope] = []

    def scope_fn(variable_groups_t, rng_groups_t, mutable_filter: Filter = True):
      nonlocal inner_scopes
      for s in inner_scopes:
        s.invalidate()
      inner_scopes = []
      variable_groups_xs = transpose(variable_groups_t) or (((),) * len(roots))
      rng_groups_xs = transpose(rng_groups_t) or (((),) * len(roots))
      for variable_groups, rng_groups, scope in zip(variable_groups_xs, rng_groups_xs, roots):
        mutable = intersect_filters(intersect_filters(scope.mutable, out_union), mutable_filter)
        variables = {}
        for group in variable_groups:
          for col, value in group.items():
            variables[col] = _copy_dicts(value) if in_filter(mutable, col) else value
        rngs = {}
        for group in rng_groups:
          for k, box in group.items():
            rngs[k] = LazyRng(box.rng, box.suffix)
        debug_path = scope.debug_path
        if name:
          last = debug_path[-1] if debug_path else ''
          debug_path = debug_path[:-1] + (f'{name}({last})',)
        inner = Scope(
          variables,
          rngs=rngs,
          name=scope.name,
          mutable=mutable,
          parent=None,
          path=scope.path,
          flags=scope.flags,
          rng_counters=scope.rng_counters,
          debug_path=debug_path,
        )
        inner_scopes.append(inner)
      return treedef.unflatten(_dup_scopes(roots, inner_scopes, paths))

    def repack(inner_scope_tree):
      nonlocal inner_scopes
      inner_scopes = []  # the transform body is over: keep nothing that holds its tracers
      inner = treedef.flatten_up_to(inner_scope_tree)
      inner_roots, _ = _dedup_scopes(inner)
      out_xs = []
      for s in inner_roots:
        s.invalidate()
        mutable_vars = {k: v for k, v in s._variables.items() if in_filter(s.mutable, k)}
        groups = group_collections(mutable_vars, out_variable_filters + (True,))
        rest = tuple(groups[-1].keys())
        if rest:
          raise ValueError(
            f'Collections {rest} were written inside a lifted transform ({name}) at '
            f'"{s.path_text}" but are not lifted as outputs.'
          )
        out_xs.append(tuple(sorted_tree(g) for g in groups[:-1]))
      return transpose(out_xs)

    # read by the transforms built on this one (jit's cache key, for instance)
    scope_fn.root_paths = tuple(s.path_text for s in roots)  # type: ignore[attr-defined]
    scope_fn.roots = roots  # type: ignore[attr-defined]
    scope_fn.layout = (treedef, tuple(p for _, p in paths))  # type: ignore[attr-defined]
    try:
      y, out_groups_t = fn(scope_fn, repack, variable_groups_t, rng_groups_t, *args, **kwargs)
    finally:
      for s in inner_scopes:
        s.invalidate()
    _commit(roots, out_groups_t)
    return y

  return wrapper


def _commit(roots: Sequence[Scope], out_groups_t: Any) -> None:
  out_groups_xs = transpose(out_groups_t)
  for scope, groups in zip(roots, out_groups_xs):
    for group in groups:
      for col, collection in group.items():
        if not scope.is_mutable_collection(col):
          continue  # e.g. scan hands back its read-only broadcast collections
        for var_name, value in collection.items():
          scope.put_variable(col, var_name, value)
