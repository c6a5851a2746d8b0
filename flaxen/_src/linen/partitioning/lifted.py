"""Lifted transforms that keep the legacy ``*_axes`` metadata right: scan, vmap, remat.

``scan_with_axes`` / ``vmap_with_axes`` are ``nn.scan`` / ``nn.vmap`` plus one
``nn.map_variables`` layer per annotated collection: on the way out of the
transform the stacked axis is inserted into every ``AxisMetadata`` of
``<collection>_axes`` (named ``axis_name`` / ``partitioning_axis_names[col]``),
on the way in it is taken out again (and checked). The ``*_axes`` collections
themselves are broadcast (scan) or unmapped (vmap): they are static.

Class and auto names follow the reference (``Map_variablesMap_variablesScanLayer``,
``Map_variablesVmapLayer``), so parameter trees are identical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.core.filters import union_filters
from flaxen._src.linen.module.context import current_module
from flaxen._src.linen.partitioning.axes import AxisMetadata
from flaxen._src.linen.spmd import _is_logical_spec
from flaxen._src.linen.transforms import map_variables, scan, vmap
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

_PUBLIC = 'flaxen.linen.partitioning'
_EMPTY: Mapping[Any, Any] = FrozenDict({})


def _map_axis_metadata(fn: Callable[[AxisMetadata], AxisMetadata], tree: Any) -> Any:
  is_meta = lambda x: isinstance(x, AxisMetadata)
  return jax.tree_util.tree_map(lambda x: fn(x) if is_meta(x) else x, tree, is_leaf=is_meta)


def _collection_is_mutable(col: str) -> bool:
  """Whether ``col`` is mutable in the running module (``True`` at top level)."""
  module = current_module()
  return True if module is None else module.is_mutable_collection(col)


class _AxisEdit:
  """Inserts (``add``) or removes (``drop``) axis ``name`` at ``position`` of every names tuple."""

  def __init__(self, position: Any, name: Any):
    self.position = getattr(position, 'axis', position)  # In(...) / Out(...) markers
    self.name = name

  def _each(self, edit: Callable[[tuple], tuple], box: AxisMetadata) -> AxisMetadata:
    def one(names):
      return None if names is None else edit(tuple(names))

    # (replace is added by struct.dataclass, which type checkers cannot see)
    return box.replace(names=jax.tree_util.tree_map(one, box.names, is_leaf=_is_logical_spec))  # type: ignore[attr-defined]

  def add(self, box: AxisMetadata) -> AxisMetadata:
    def insert(names: tuple) -> tuple:
      grown = list(names)
      grown.insert(self.position, self.name)
      return tuple(grown)

    return self._each(insert, box)

  def drop(self, box: AxisMetadata) -> AxisMetadata:
    def remove(names: tuple) -> tuple:
      if names[self.position] != self.name:
        raise ValueError(
          f'Expected axis {self.name} at position {self.position} in axis metadata {list(names)}.'
        )
      shrunk = list(names)
      del shrunk[self.position]
      return tuple(shrunk)

    return self._each(remove, box)


def _with_axis_in_metadata(target: Any, position: Any, name: Any, axes_col: str) -> Any:
  edit = _AxisEdit(position, name)
  return map_variables(
    target, axes_col, mutable=_collection_is_mutable(axes_col),
    trans_in_fn=lambda tree: _map_axis_metadata(edit.drop, tree),
    trans_out_fn=lambda tree: _map_axis_metadata(edit.add, tree),
  )


@set_module(_PUBLIC)
def scan_with_axes(
  target: Any,
  variable_axes: Mapping[Any, Any] = _EMPTY,
  variable_broadcast: Any = False,
  variable_carry: Any = False,
  split_rngs: Mapping[Any, bool] = _EMPTY,
  in_axes: Any = 0,
  out_axes: Any = 0,
  length: int | None = None,
  reverse: bool = False,
  unroll: int = 1,
  axis_name: str = 'layers',
  axes_collections: tuple[str, ...] = ('params',),
  data_transform: Callable[..., Any] | None = None,
  methods: Any = None,
) -> Any:
  """``nn.scan`` that also adds the scanned axis (``axis_name``) to the ``*_axes`` metadata.

  Args:
    target: a Module class or a function ``(module, carry, *xs)``.
    variable_axes, variable_broadcast, variable_carry, split_rngs, in_axes, out_axes,
      length, reverse, unroll, data_transform, methods: as for ``nn.scan``.
    axis_name: the logical name of the stacked axis.
    axes_collections: the collections whose ``<col>_axes`` metadata gets the axis
      (for those scanned in ``variable_axes``).

  Returns:
    The scanned target.
  """
  broadcast = union_filters(variable_broadcast, tuple(c + '_axes' for c in axes_collections))
  scanned = scan(
    target, variable_axes=variable_axes, variable_broadcast=broadcast,
    variable_carry=variable_carry, split_rngs=split_rngs, in_axes=in_axes, out_axes=out_axes,
    length=length, reverse=reverse, unroll=unroll, data_transform=data_transform,
    methods=methods,
  )
  for col in axes_collections:
    if col in variable_axes:
      scanned = _with_axis_in_metadata(scanned, variable_axes[col], axis_name, col + '_axes')
  return scanned


@set_module(_PUBLIC)
def vmap_with_axes(
  target: Any,
  variable_axes: Mapping[Any, Any],
  split_rngs: Mapping[Any, bool] = _EMPTY,
  in_axes: Any = 0,
  out_axes: Any = 0,
  axis_size: int | None = None,
  axis_name: str | None = None,
  partitioning_axis_names: Mapping[Any, str] = _EMPTY,
  spmd_axis_name: str | None = None,
  methods: Any = None,
) -> Any:
  """``nn.vmap`` that also adds the mapped axis to the ``*_axes`` metadata.

  Args:
    target: a Module class or a function ``(module, *args)``.
    variable_axes, split_rngs, in_axes, out_axes, axis_size, axis_name,
      spmd_axis_name, methods: as for ``nn.vmap``.
    partitioning_axis_names: ``{collection: logical name}`` of the new axis in
      ``<collection>_axes``.

  Returns:
    The vmapped target.
  """
  axes = dict(variable_axes)
  for col in partitioning_axis_names:
    axes[col + '_axes'] = None
  mapped = vmap(
    target, variable_axes=axes, split_rngs=split_rngs, in_axes=in_axes, out_axes=out_axes,
    axis_size=axis_size, axis_name=axis_name, spmd_axis_name=spmd_axis_name, methods=methods,
  )
  for col, position in axes.items():
    if col in partitioning_axis_names:
      mapped = _with_axis_in_metadata(
        mapped, position, partitioning_axis_names[col], col + '_axes'
      )
  return mapped
