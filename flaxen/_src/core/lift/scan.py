"""Lifted ``jax.lax.scan`` over a function of scopes: ``fn(scope, carry, *xs) -> (carry, ys)``.

Three kinds of variables:

* **scanned** (``variable_axes={filter: axis}``): each iteration sees a slice;
  outputs are stacked on ``axis`` (one set of parameters per layer);
* **broadcast** (``variable_broadcast``): one value for all iterations, e.g.
  RNN parameters; created during the first (constant) pass of ``axes_scan``;
* **carry** (``variable_carry``): threaded through the iterations (fixed shape;
  they cannot be created inside the body).

``split_rngs={filter: True}`` splits a stream's base key into ``length`` keys,
one per iteration (path kept). The body is traced twice (see ``scan_loop``),
so RNG counters continue from the first pass into the second.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.core import meta
from flaxen._src.core.filters import DenyList
from flaxen._src.core.lift.axes import (
  broadcast,
  check_axis,
  leading_sizes,
  split_in_out_axes,
  unzip2,
)
from flaxen._src.core.lift.pack import map_rngs, pack
from flaxen._src.core.lift.scan_loop import scan as axes_scan
from flaxen._src.public import set_module


def _not_scanned(a: Any) -> bool:
  return a is None or a is broadcast


def _add_back(in_groups: tuple, out_groups: tuple) -> tuple:
  """Adds collections of ``in_groups`` missing from ``out_groups`` (read-only ones)."""
  merged = []
  for cols_in, cols_out in zip(in_groups, out_groups):
    cols_out = dict(cols_out)
    for col, value in cols_in.items():
      if col not in cols_out:
        cols_out[col] = value
    merged.append(cols_out)
  return tuple(merged)


def _scan_length(length, in_axes, args, scan_groups, scan_axes, paths):
  sizes = [(f'argument {p}', s) for p, s in leading_sizes(in_axes, args, _not_scanned)]
  for group, ax in zip(scan_groups, scan_axes):
    for cols, where in zip(group, paths):
      sizes += [(f'variable "{p}" in "{where}"', s)
                for p, s in leading_sizes(ax, cols, _not_scanned)]
  found = {s for _, s in sizes}
  if length is None:
    if len(found) == 1:
      return found.pop()
    if not found:
      raise ValueError('scan: `length` must be given when no input is scanned over.')
  elif not found or found == {length}:
    return length
  detail = ', '.join(f'{p}: {s}' for p, s in sizes)
  extra = f' (length={length})' if length is not None else ''
  raise ValueError(f'scan: inconsistent lengths of the scanned axes{extra}: {detail}.')


@set_module('flaxen.core.lift')
def scan(
  fn: Callable[..., Any],
  variable_axes: Mapping[Any, Any] | None = None,
  variable_broadcast: Any = False,
  variable_carry: Any = False,
  split_rngs: Mapping[Any, bool] | None = None,
  in_axes: Any = 0,
  out_axes: Any = 0,
  length: int | None = None,
  reverse: bool = False,
  unroll: int | bool = 1,
  _split_transpose: bool = False,
  data_transform: Callable[..., Any] | None = None,
  metadata_params: dict[str, Any] | None = None,
  check_constancy_invariants: bool = True,
) -> Callable[..., Any]:
  """Lifted ``lax.scan`` of ``fn(scope, carry, *xs) -> (carry, ys)``.

  Args:
    fn: the loop body.
    variable_axes: ``{collection filter: axis}`` of scanned collections.
    variable_broadcast: filter of the broadcast collections.
    variable_carry: filter of the carried collections.
    split_rngs: ``{stream filter: whether to split per iteration}``.
    in_axes: prefix tree of ``xs``: an axis or ``broadcast`` per value.
    out_axes: prefix tree of ``ys``: an axis or ``broadcast``.
    length: number of iterations (needed when nothing is scanned over).
    reverse: iterate from the end.
    unroll: iterations unrolled per loop step (see ``lax.scan``).
    data_transform: ``(variable_groups, rng_groups) -> (variable_groups,
      rng_groups)`` applied inside the body (inline SPMD annotations).
    metadata_params: arguments for ``AxisMetadata.add_axis``/``remove_axis``.
    check_constancy_invariants: compute broadcast variables in a first pass
      (default). ``False`` traces the body once; broadcast collections are then
      read-only inside the loop and must already exist.

  Returns:
    ``scanned(scope_tree, carry, *xs, **kwargs) -> (carry, ys)``; keyword
    arguments are broadcast to every iteration.
  """
  variable_axes = variable_axes or {}
  split_rngs = split_rngs or {}
  metadata_params = dict(metadata_params or {})
  var_in, var_out = split_in_out_axes(variable_axes)
  in_groups, in_var_axes = unzip2(var_in)
  out_groups, out_var_axes = unzip2(var_out)
  rng_filters, rng_splits = unzip2(split_rngs)
  rng_axes = tuple(0 if s else broadcast for s in rng_splits)
  mutable_filter = True if check_constancy_invariants else DenyList(variable_broadcast)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, init, *args, **kwargs):
    paths = scope_fn.root_paths
    broadcast_vars, carry_vars = variable_groups[0], variable_groups[1]
    # boxes drop the scanned axis from their metadata first (as the reference does), so the
    # length and the axis check see the values as remove_axis left them
    scan_vars = tuple(
      meta.remove_axis(g, ax, metadata_params) for g, ax in zip(variable_groups[2:], in_var_axes)
    )
    n = _scan_length(length, in_axes, args, scan_vars, in_var_axes, paths)
    for group, ax in zip(scan_vars, in_var_axes):
      check_axis('scan', group, ax, n, paths)
    rng_groups = tuple(
      map_rngs(lambda k: jax.random.split(k, n), g) if split else g
      for g, split in zip(rng_groups, rng_splits)
    )

    def body(broadcast_vars, carry, scan_groups, rng_groups, xs):
      carry_vars, c = carry
      groups = (broadcast_vars, carry_vars) + tuple(scan_groups)
      if data_transform is not None:
        groups, rng_groups = data_transform(groups, rng_groups)
      scope = scope_fn(groups, rng_groups, mutable_filter)
      c, y = fn(scope, c, *xs, **kwargs)
      out = repack_fn(scope)
      broadcast_out = _add_back(broadcast_vars, out[0])
      carry_out = _add_back(carry_vars, out[1])
      _check_carry(carry_vars, carry_out, paths)
      return broadcast_out, (carry_out, c), (y, out[2:])

    scan_fn = axes_scan(
      lambda b, c, sg, rg, xs: body(b, c, sg, rg, xs),
      in_axes=(in_var_axes, rng_axes, in_axes),
      out_axes=(out_axes, out_var_axes),
      length=n,
      reverse=reverse,
      unroll=unroll,
      check_constancy_invariants=check_constancy_invariants,
      _split_transpose=_split_transpose,
    )
    broadcast_vars, (carry_vars, c), (ys, scan_out) = scan_fn(
      broadcast_vars, (carry_vars, init), scan_vars, rng_groups, args
    )
    scan_out = tuple(
      meta.add_axis(g, ax, metadata_params) for g, ax in zip(scan_out, out_var_axes)
    )
    return (c, ys), (broadcast_vars, carry_vars) + scan_out

  return pack(
    inner,
    (variable_broadcast, variable_carry) + in_groups,
    (variable_broadcast, variable_carry) + out_groups,
    rng_filters,
    name='scan',
    enable_kwargs=True,
  )


def _check_carry(carry_in: tuple, carry_out: tuple, paths: tuple) -> None:
  for cols_in, cols_out, where in zip(carry_in, carry_out, paths):
    # (jaxlib ships no stub for PyTreeDef, so mypy does not know that it compares)
    if jax.tree_util.tree_structure(cols_in) != jax.tree_util.tree_structure(cols_out):  # type: ignore[operator]
      new = sorted(set(_flat_names(cols_out)) - set(_flat_names(cols_in)))
      raise ValueError(
        f'scan: carried variables of "{where}" changed structure inside the loop body '
        f'(new: {new or "different nesting"}). Variables in `variable_carry` collections '
        'cannot be created inside the body; create them before the scan.'
      )


def _flat_names(cols: Mapping[str, Any]) -> list[str]:
  leaves, _ = jax.tree_util.tree_flatten_with_path(cols)
  return ['/'.join(str(getattr(k, 'key', k)) for k in path) for path, _ in leaves]
