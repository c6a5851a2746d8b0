"""Axis markers and checks shared by the mapping transforms (``vmap``, ``scan``).

* ``broadcast``: an ``in_axes``/``out_axes`` leaf of ``scan`` meaning "the whole
  value goes to (comes from) every iteration".
* ``In(axis)`` / ``Out(axis)``: a ``variable_axes`` value that lifts a
  collection only into, or only out of, the transform.
* ``check_axis``: validates that every variable of a mapped collection has the
  mapped axis with the expected size, and names the collection and the variable
  path when it does not (JAX's own message names neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from flaxen._src.core.broadcast import broadcast
from flaxen._src.typing import In, Out

__all__ = ['In', 'Out', 'broadcast', 'check_axis', 'leading_sizes', 'split_in_out_axes', 'unzip2']

def split_in_out_axes(xs: Mapping[Any, Any]) -> tuple[dict, dict]:
  """Splits ``{filter: axis | In(axis) | Out(axis)}`` into (input axes, output axes)."""
  unpack = lambda v: v.axis if isinstance(v, In | Out) else v
  ins = {k: unpack(v) for k, v in xs.items() if not isinstance(v, Out)}
  outs = {k: unpack(v) for k, v in xs.items() if not isinstance(v, In)}
  return ins, outs


def unzip2(xs: Mapping[Any, Any]) -> tuple[tuple, tuple]:
  items = tuple(xs.items())
  return tuple(k for k, _ in items), tuple(v for _, v in items)


def _leaf_paths(tree: Any):
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  for path, leaf in leaves:
    yield '/'.join(_key_str(k) for k in path), leaf


def _key_str(k: Any) -> str:
  for attr in ('key', 'name', 'idx'):
    if hasattr(k, attr):
      return str(getattr(k, attr))
  return str(k)


def check_axis(
  transform: str, group: tuple, axis: int | None, size: int | None, scope_paths: tuple
) -> None:
  """Raises ``ValueError`` naming the collection and variable when ``axis`` is unusable.

  Args:
    transform: ``'vmap'`` or ``'scan'`` (for the message).
    group: one variable group: a tuple (per scope) of ``{collection: tree}``.
    axis: the mapped axis (``None``: not mapped, nothing to check).
    size: the expected length of the axis (``None``: only check it exists).
    scope_paths: the path text of each scope of the group.
  """
  if axis is None:
    return
  for cols, where in zip(group, scope_paths):
    for col, tree in cols.items():
      for path, leaf in _leaf_paths(tree):
        shape = np.shape(leaf)
        ax = axis + len(shape) if axis < 0 else axis
        if not 0 <= ax < len(shape):
          raise ValueError(
            f'{transform}: variable "{path}" of collection "{col}" in "{where}" has shape '
            f'{shape}, which has no axis {axis} to map over (variable_axes={{{col!r}: {axis}}}).'
          )
        if size is not None and shape[ax] != size:
          raise ValueError(
            f'{transform}: variable "{path}" of collection "{col}" in "{where}" has size '
            f'{shape[ax]} on axis {axis}, but the mapped size is {size}.'
          )


def leading_sizes(axes: Any, tree: Any, is_skip, strict: bool = True) -> list[tuple[str, int]]:
  """The sizes of the mapped axes of ``tree`` (``axes`` is a prefix tree of ints).

  With ``strict=False`` a leaf that has no such axis (a scalar, or a value that
  is not an array at all, e.g. a function) is skipped: JAX's own transform then
  reports it with its usual error (``TypeError: ... is not a valid JAX type``).
  """
  found = []

  def visit(ax, sub):
    if is_skip(ax):
      return
    for path, leaf in _leaf_paths(sub):
      shape = np.shape(leaf) if strict or hasattr(leaf, 'shape') else ()
      a = ax + len(shape) if ax < 0 else ax
      if not 0 <= a < len(shape):
        if not strict:
          continue
        raise ValueError(f'argument leaf {path or "<root>"} of shape {shape} has no axis {ax}')
      found.append((path, shape[a]))

  jax.tree_util.tree_map(visit, axes, tree, is_leaf=lambda x: x is None or is_skip(x))
  return found
