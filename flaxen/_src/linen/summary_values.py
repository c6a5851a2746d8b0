"""How ``tabulate`` stands for the values it records: arrays by shape/dtype, the rest as is.

While a module is summarised (under ``jax.eval_shape``) every input, output and variable
leaf is replaced by a small *representation*: an array (or tracer, or ``ShapeDtypeStruct``)
by its shape and dtype, a ``Partitioned`` box by that plus its axis names, anything else
(Python scalars, ``None``, strings, enums, plain objects) by the object itself. The
representations render as rich markup (``[dim]float32[/dim][16,9]``) and turn back into
``jax.ShapeDtypeStruct``s when a call is re-run to measure its FLOPs. Nothing traced
escapes ``eval_shape`` this way.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.core import meta


class ValueRepresentation:
  """Base of the representations: ``render()`` gives the table's markup."""

  def render(self) -> str:
    raise NotImplementedError


@dataclasses.dataclass
class ArrayRepresentation(ValueRepresentation):
  shape: tuple[int, ...]
  dtype: Any

  @classmethod
  def of(cls, x: Any) -> ArrayRepresentation:
    return cls(jnp.shape(x), jnp.result_type(x))

  def render(self) -> str:
    dims = ','.join(str(d) for d in self.shape)
    return f'[dim]{self.dtype}[/dim][{dims}]'


@dataclasses.dataclass
class PartitionedArrayRepresentation(ValueRepresentation):
  array_representation: ArrayRepresentation
  names: Any

  def render(self) -> str:
    return f'{self.array_representation.render()} [dim]P[/dim]{self.names}'


@dataclasses.dataclass
class ObjectRepresentation(ValueRepresentation):
  obj: Any

  def render(self) -> str:
    return repr(self.obj)


def _is_plain_scalar(x: Any) -> bool:
  return isinstance(x, (int, float, bool, type(None))) or (
    isinstance(x, np.ndarray) and np.isscalar(x)
  )


def represent_leaf(x: Any) -> ValueRepresentation:
  """The representation of one leaf (see the module docstring)."""
  if _is_plain_scalar(x):
    return ObjectRepresentation(x)
  if isinstance(x, meta.Partitioned):
    return PartitionedArrayRepresentation(ArrayRepresentation.of(x.value), x.names)
  try:
    return ArrayRepresentation.of(x)
  except Exception:  # not array-like: keep the object itself
    return ObjectRepresentation(x)


def represent_tree(tree: Any) -> Any:
  """``tree`` with each leaf (``None`` and ``Partitioned`` boxes included) represented."""
  is_leaf = lambda x: x is None or isinstance(x, meta.Partitioned)
  return jax.tree_util.tree_map(represent_leaf, tree, is_leaf=is_leaf)


def unrepresent(x: Any) -> Any:
  """Arrays back as ``ShapeDtypeStruct``s (partition names dropped), objects as themselves."""
  if isinstance(x, ArrayRepresentation):
    return jax.ShapeDtypeStruct(x.shape, x.dtype)
  if isinstance(x, PartitionedArrayRepresentation):
    inner = x.array_representation
    return jax.ShapeDtypeStruct(inner.shape, inner.dtype)
  if isinstance(x, ObjectRepresentation):
    return x.obj
  raise TypeError(x, type(x))


def normalize_structure(obj: Any) -> Any:
  """Containers as YAML can print them: tuples for sequences, dicts for mappings and
  dataclasses, an enum's value in place of the enum; representations are kept."""
  if isinstance(obj, ValueRepresentation):
    return obj
  if isinstance(obj, (tuple, list)):
    return tuple(normalize_structure(v) for v in obj)
  if isinstance(obj, Mapping):
    return {normalize_structure(k): normalize_structure(v) for k, v in obj.items()}
  if dataclasses.is_dataclass(obj):
    return {f.name: normalize_structure(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
  if isinstance(obj, enum.Enum):
    return obj.value
  return obj


def render_leaf(x: Any) -> str:
  return x.render() if hasattr(x, 'render') else repr(x)


def render_tree(tree: Any) -> Any:
  """Every leaf (``None`` included) replaced by its markup string."""
  return jax.tree_util.tree_map(render_leaf, tree, is_leaf=lambda x: x is None)


def size_and_bytes(tree: Any) -> tuple[int, int]:
  """Total element count and byte size of the array leaves of ``tree``."""
  arrays = [x for x in jax.tree_util.tree_leaves(tree) if hasattr(x, 'size')]
  return (sum(x.size for x in arrays), sum(x.size * x.dtype.itemsize for x in arrays))
