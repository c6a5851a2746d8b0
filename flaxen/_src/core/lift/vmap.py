"""Lifted ``jax.vmap``: map a function of scopes over an axis of its inputs and variables.

* ``variable_axes``: ``{filter: axis}``; ``axis=None`` shares (broadcasts) the
  collection, an integer maps over that axis of every variable in it (the
  variables are stacked on that axis on the way out).
* ``split_rngs``: ``{filter: bool}``; a split stream's *base key* is split into
  one key per index (``jax.random.split(base, size)``), the path is kept, so
  inside element ``i`` keys are ``fold_in(split[i], H(path, counter))``.
  Counters continue from the lifted scope's counters.
* ``metadata_params`` is passed to ``AxisMetadata.add_axis``/``remove_axis`` of
  boxed variables (e.g. ``{PARTITION_NAME: 'layers'}``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.core import meta
from flaxen._src.core.lift.axes import check_axis, leading_sizes, split_in_out_axes, unzip2
from flaxen._src.core.lift.pack import map_rngs, pack
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def vmap(
  fn: Callable[..., Any],
  variable_axes: Mapping[Any, Any],
  split_rngs: Mapping[Any, bool],
  in_axes: Any = 0,
  out_axes: Any = 0,
  axis_size: int | None = None,
  axis_name: str | None = None,
  spmd_axis_name: Any = None,
  metadata_params: dict[str, Any] | None = None,
) -> Callable[..., Any]:
  """Lifted ``jax.vmap`` of ``fn(scope, *args)``.

  Args:
    fn: the function to map; its first argument is a scope (tree).
    variable_axes: ``{collection filter: axis or None}`` (``In``/``Out`` allowed).
    split_rngs: ``{stream filter: whether to split}``.
    in_axes: like ``jax.vmap``'s, for ``args``.
    out_axes: like ``jax.vmap``'s, for the result.
    axis_size: the mapped size when no input has the mapped axis.
    axis_name: name of the mapped axis for collectives.
    spmd_axis_name: see ``jax.vmap``.
    metadata_params: arguments for ``AxisMetadata.add_axis``/``remove_axis``.

  Returns:
    ``mapped(scope_tree, *args, **kwargs)``; keyword arguments are not mapped
    (they are closed over, e.g. a ``train`` flag).

  Raises:
    ValueError: inconsistent or undeterminable axis sizes; a variable without
      the mapped axis (the message names the collection and variable).
  """
  metadata_params = dict(metadata_params or {})
  var_in, var_out = split_in_out_axes(variable_axes)
  in_groups, in_var_axes = unzip2(var_in)
  out_groups, out_var_axes = unzip2(var_out)
  rng_filters, rng_splits = unzip2(split_rngs)
  rng_axes = tuple(0 if s else None for s in rng_splits)

  def inner(scope_fn, repack_fn, variable_groups, rng_groups, *args, **kwargs):
    paths = scope_fn.root_paths
    # boxes drop the mapped axis from their metadata first (as the reference does), so the
    # axis size and the axis check see the values as remove_axis left them
    variable_groups = tuple(
      meta.remove_axis(g, ax, metadata_params) if ax is not None else g
      for g, ax in zip(variable_groups, in_var_axes)
    )
    sizes = []
    for group, ax in zip(variable_groups, in_var_axes):
      if ax is not None:
        for cols, where in zip(group, paths):
          sizes += [(f'variable "{p}" in "{where}"', s)
                    for p, s in leading_sizes(ax, cols, lambda a: a is None)]
    sizes += [(f'argument {p}', s)
              for p, s in leading_sizes(in_axes, args, lambda a: a is None, strict=False)]
    found = {s for _, s in sizes}
    if axis_size is None and len(found) == 1:
      (size,) = found
    elif len(found) > 1:
      detail = ', '.join(f'{p}: {s}' for p, s in sizes)
      raise ValueError(f'Inconsistent batch axis sizes: {found} (vmap: {detail}).')
    elif axis_size is None:
      raise ValueError(
        'axis_size should be specified manually. (vmap: no argument or variable is mapped, '
        'so the size of the mapped axis is unknown.)'
      )
    else:
      size = axis_size  # a disagreeing input is reported by jax.vmap itself
    for group, ax in zip(variable_groups, in_var_axes):
      check_axis('vmap', group, ax, size, paths)

    rng_groups = tuple(
      map_rngs(lambda k: jax.random.split(k, size), g) if split else g
      for g, split in zip(rng_groups, rng_splits)
    )

    @functools.partial(
      jax.vmap,
      in_axes=(in_var_axes, rng_axes, in_axes),
      out_axes=(out_axes, out_var_axes),
      axis_name=axis_name,
      axis_size=size,
      spmd_axis_name=spmd_axis_name,
    )
    def mapped(variable_groups, rng_groups, args):
      scope = scope_fn(variable_groups, rng_groups)
      y = fn(scope, *args, **kwargs)
      return y, repack_fn(scope)

    y, vars_out = mapped(variable_groups, rng_groups, args)
    vars_out = tuple(
      meta.add_axis(g, ax, metadata_params) if ax is not None else g
      for g, ax in zip(vars_out, out_var_axes)
    )
    return y, vars_out

  return pack(inner, in_groups, out_groups, rng_filters, name='vmap', enable_kwargs=True)
