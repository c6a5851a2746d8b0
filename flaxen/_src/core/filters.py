"""Collection filters: which variable collections (or RNG streams) a rule applies to.

A ``Filter`` is one of:

* ``True`` / ``False``: every collection / none;
* a ``str``: exactly that collection;
* a collection of strings (list, tuple, set, ...): any of them;
* ``DenyList(deny)``: everything that ``deny`` (itself a filter) rejects.

Filters are plain values (hashable where their parts are), so they can be used
as static arguments of JAX transforms. ``union_filters``, ``intersect_filters``
and ``subtract_filters`` build new filters from two old ones, normalising to
the simplest equivalent form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from typing import Any

from flaxen._src import errors
from flaxen._src.public import set_module


@set_module('flaxen.core')
@dataclasses.dataclass(frozen=True, eq=True)
class DenyList:
  """A filter that matches every name except those matched by ``deny``.

  Example:
    >>> from flaxen.core import DenyList
    >>> from flaxen.core.scope import in_filter
    >>> in_filter(DenyList('intermediates'), 'params')
    True
    >>> in_filter(DenyList('intermediates'), 'intermediates')
    False
  """

  deny: Any

  def __post_init__(self):
    if isinstance(self.deny, list | set):
      object.__setattr__(self, 'deny', tuple(self.deny))


Filter = bool | str | Collection[str] | DenyList


def _check(filter_like: Any) -> None:
  if isinstance(filter_like, bool | str | DenyList):
    return
  if isinstance(filter_like, Collection):
    return
  raise errors.InvalidFilterError(filter_like)


@set_module('flaxen.core.scope')
def in_filter(filter_like: Filter, col: str) -> bool:
  """Returns whether collection ``col`` is matched by ``filter_like``.

  Raises:
    InvalidFilterError: ``filter_like`` is not a valid filter.
  """
  if filter_like is True or filter_like is False:
    return filter_like
  if isinstance(filter_like, str):
    return col == filter_like
  if isinstance(filter_like, DenyList):
    return not in_filter(filter_like.deny, col)
  if isinstance(filter_like, Collection):
    return col in filter_like
  raise errors.InvalidFilterError(filter_like)


@set_module('flaxen.core.scope')
def is_filter_empty(filter_like: Filter) -> bool:
  """Whether ``filter_like`` matches no collection at all.

  ``False`` and empty collections match nothing; a string always matches its
  own name; a ``DenyList`` matches nothing when its ``deny`` matches everything.

  Raises:
    InvalidFilterError: ``filter_like`` is not a valid filter.
  """
  if isinstance(filter_like, str):
    return False
  if isinstance(filter_like, bool):
    return filter_like is False
  if isinstance(filter_like, DenyList):
    return _normal(filter_like.deny) is True
  if isinstance(filter_like, Collection):
    return len(filter_like) == 0
  raise errors.InvalidFilterError(filter_like)


@set_module('flaxen.core.scope')
def filter_to_set(x: Filter) -> set[str]:
  """Converts a positive (non-DenyList, non-True) filter to a set of names."""
  if x is False:
    return set()
  if isinstance(x, str):
    return {x}
  if isinstance(x, DenyList) or x is True:
    raise ValueError(f'Cannot convert filter {x!r} to a set of names.')
  if isinstance(x, Iterable):
    return set(x)
  raise errors.InvalidFilterError(x)


def _normal(x: Filter) -> bool | frozenset[str] | DenyList:
  """Normal form: True, False, a frozenset, or DenyList(frozenset)."""
  _check(x)
  if x is True or x is False:
    return x
  if isinstance(x, DenyList):
    inner = _normal(x.deny)
    if inner is True:
      return False
    if inner is False:
      return True
    if isinstance(inner, DenyList):
      return inner.deny
    return DenyList(inner)
  s = frozenset(filter_to_set(x))
  return s if s else False


def _pack(x: Filter) -> Filter:
  if isinstance(x, frozenset):
    return tuple(sorted(x))
  if isinstance(x, DenyList):
    return DenyList(_pack(x.deny))
  return x


@set_module('flaxen.core.scope')
def union_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what ``a`` or ``b`` matches."""
  a, b = _normal(a), _normal(b)
  if a is True or b is True:
    return True
  if a is False:
    return _pack(b)
  if b is False:
    return _pack(a)
  if isinstance(a, DenyList) and isinstance(b, DenyList):
    return _pack(_normal(DenyList(a.deny & b.deny)))
  if isinstance(a, DenyList):
    return _pack(_normal(DenyList(a.deny - b)))
  if isinstance(b, DenyList):
    return _pack(_normal(DenyList(b.deny - a)))
  return _pack(a | b)


@set_module('flaxen.core.scope')
def intersect_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what both ``a`` and ``b`` match."""
  a, b = _normal(a), _normal(b)
  if a is False or b is False:
    return False
  if a is True:
    return _pack(b)
  if b is True:
    return _pack(a)
  if isinstance(a, DenyList) and isinstance(b, DenyList):
    return _pack(DenyList(a.deny | b.deny))
  if isinstance(a, DenyList):
    return _pack(_normal(b - a.deny))
  if isinstance(b, DenyList):
    return _pack(_normal(a - b.deny))
  return _pack(_normal(a & b))


@set_module('flaxen.core.scope')
def subtract_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what ``a`` matches and ``b`` does not."""
  return intersect_filters(a, DenyList(_pack(_normal(b))) if not isinstance(b, bool) else (not b))


@set_module('flaxen.core.scope')
def group_collections(xs: dict[str, Any], col_filters: Iterable[Filter]) -> tuple[dict, ...]:
  """Splits ``xs`` into one dict per filter; each key goes to the first filter matching it."""
  cols = list(xs.keys())
  groups = []
  for f in col_filters:
    group = {}
    rest = []
    for col in cols:
      if in_filter(f, col):
        group[col] = xs[col]
      else:
        rest.append(col)
    cols = rest
    groups.append(group)
  return tuple(groups)
