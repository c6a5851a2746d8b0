"""A hashable summary of a module's *configuration*, for ``nn.jit``'s trace cache.

``fingerprint(x)`` is equal for two values exactly when a trace made with one
can be reused for the other: modules compare by class and field values (not by
name, path or identity, so ``Model(cfg).apply`` hits the cache with a fresh
module and an equal config every step); plain dataclasses (a config object,
even an unhashable one), mappings, sequences, sets and ``functools.partial``
objects compare by content; arrays, and other values that cannot be hashed,
compare by identity (``Identity``), held weakly where the object allows it, so
the cache keeps nothing alive.
"""

from __future__ import annotations

import dataclasses
import functools
import weakref
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from flaxen._src.linen.module.base import ModuleBase

_SCALARS = (str, int, float, bool, bytes, type(None))


class Identity:
  """Stands for an object that compares by identity (weakly held when possible)."""

  __slots__ = ('_ref', '_strong', '_hash')
  _ref: weakref.ref[Any] | None

  def __init__(self, obj: Any):
    self._hash = id(obj)
    try:
      self._ref, self._strong = weakref.ref(obj), None
    except TypeError:
      self._ref, self._strong = None, obj

  def get(self) -> Any:
    return self._strong if self._ref is None else self._ref()

  def __eq__(self, other: Any) -> bool:
    if not isinstance(other, Identity):
      return False
    mine = self.get()
    return mine is not None and mine is other.get()

  def __hash__(self) -> int:
    return self._hash


def _fields(obj: Any, names: Any) -> tuple:
  return tuple((name, fingerprint(getattr(obj, name, None))) for name in names)


def fingerprint(x: Any) -> Any:
  """A hashable value equal for interchangeable configurations (see module docstring)."""
  if isinstance(x, _SCALARS):
    return x
  if isinstance(x, ModuleBase):
    return ('module', type(x), _fields(x, type(x)._flaxen_field_names))
  if isinstance(x, jax.Array | np.ndarray):
    return Identity(x)
  if isinstance(x, list | tuple):
    return (type(x), tuple(fingerprint(v) for v in x))
  if isinstance(x, Mapping):
    return ('mapping', type(x), tuple((k, fingerprint(v)) for k, v in x.items()))
  if isinstance(x, set | frozenset):
    return ('set', frozenset(fingerprint(v) for v in x))
  if isinstance(x, functools.partial):
    return ('partial', fingerprint(x.func), fingerprint(x.args), fingerprint(x.keywords))
  if dataclasses.is_dataclass(x) and not isinstance(x, type):
    return ('dataclass', type(x), _fields(x, (f.name for f in dataclasses.fields(x))))
  try:
    hash(x)
  except TypeError:
    return Identity(x)
  return x
