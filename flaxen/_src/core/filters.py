"""Collection filters: which variable collections (or RNG streams) a rule applies to.

A ``Filter`` is one of:

* ``True`` / ``False``: every collection / none;
* a ``str``: exactly that collection;
* a collection of strings (list, tuple, set, ...): any of them;
* ``DenyList(deny)``: everything that ``deny`` (itself a filter) rejects.

Filters are plain values (hashable where their parts are), so they can be used
as static arguments of JAX transforms. ``union_filters``, ``intersect_filters``
and ``subtract_filters`` build new filters from two old ones and return what the
reference returns (a ``set`` for two finite filters, a ``DenyList`` around a
sub-result otherwise).
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

  # Ordered after every string, and among themselves by the text of ``deny``: dicts
  # keyed by filters (``split_rngs={'params': False, DenyList('params'): True}``) are
  # pytrees, whose keys JAX sorts when flattening.
  def _order_key(self, other: Any) -> tuple[tuple[str, str], tuple[str, str]] | None:
    if isinstance(other, str):
      return ('1', ''), ('0', other)
    if isinstance(other, DenyList):
      return ('1', str(self.deny)), ('1', str(other.deny))
    return None

  def __lt__(self, other: Any) -> bool:
    keys = self._order_key(other)
    return NotImplemented if keys is None else keys[0] < keys[1]

  def __gt__(self, other: Any) -> bool:
    keys = self._order_key(other)
    return NotImplemented if keys is None else keys[0] > keys[1]

  def __post_init__(self):
    # hashable, so a DenyList can be a static argument; a set stays a set for equality
    if isinstance(self.deny, list):
      object.__setattr__(self, 'deny', tuple(self.deny))
    elif isinstance(self.deny, set):
      object.__setattr__(self, 'deny', frozenset(self.deny))


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


class InfiniteFilterError(AssertionError, ValueError):
  """``filter_to_set`` got a filter that matches infinitely many names.

  An ``AssertionError`` as the reference's (it asserts), and a ``ValueError``.
  """


@set_module('flaxen.core.scope')
def filter_to_set(x: Filter) -> set[str]:
  """Converts a positive (non-DenyList, non-True) filter to a set of names.

  Raises:
    AssertionError: ``x`` is ``True`` or a ``DenyList`` (an infinite set); the
      error is also a ``ValueError``.
    InvalidFilterError: ``x`` is not a filter.
  """
  if x is True or isinstance(x, DenyList):
    raise InfiniteFilterError(
      f'Infinite set: the filter {x!r} matches all names but a finite few, it has no set form.')
  if isinstance(x, str):  # one name (a str is also a Collection of characters)
    return {x}
  if not (x is False or isinstance(x, Collection)):
    raise errors.InvalidFilterError(x)
  return set() if x is False else set(x)


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


# The set algebra below returns what the reference returns, type included: a ``set``
# when both sides are finite, ``True``/``False`` or one of the operands as it is
# when one side is ``True``, and a ``DenyList`` (not simplified) around a sub-result
# otherwise. The ``DenyList`` cases reduce to the other operations on ``deny``
# (De Morgan).


@set_module('flaxen.core.scope')
def union_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what ``a`` or ``b`` matches.

  Example:
    >>> from flaxen.core.scope import union_filters
    >>> sorted(union_filters('params', ['batch_stats']))
    ['batch_stats', 'params']
  """
  if a is True or b is True:
    return True
  if isinstance(a, DenyList) and isinstance(b, DenyList):
    # not-A or not-B == not (A and B)
    return DenyList(intersect_filters(a.deny, b.deny))
  if isinstance(a, DenyList) or isinstance(b, DenyList):
    denied, other = (a, b) if isinstance(a, DenyList) else (b, a)
    assert isinstance(denied, DenyList)
    # not-D or X == not (D without X)
    return DenyList(subtract_filters(denied.deny, other))
  return filter_to_set(a) | filter_to_set(b)


@set_module('flaxen.core.scope')
def subtract_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what ``a`` matches and ``b`` does not."""
  if b is True:
    return False
  if a is True:
    return DenyList(b)
  if isinstance(a, DenyList) and isinstance(b, DenyList):
    # not-A without not-B == B without A
    return subtract_filters(b.deny, a.deny)
  if isinstance(a, DenyList):
    # not-A without B == not (A or B)
    return DenyList(union_filters(a.deny, b))
  if isinstance(b, DenyList):
    # A without not-B == A and B
    return intersect_filters(a, b.deny)
  return filter_to_set(a) - filter_to_set(b)


@set_module('flaxen.core.scope')
def intersect_filters(a: Filter, b: Filter) -> Filter:
  """A filter matching what both ``a`` and ``b`` match.

  Example:
    >>> from flaxen.core.scope import intersect_filters
    >>> intersect_filters(['params', 'cache'], 'cache')
    {'cache'}
  """
  if a is True:
    return b
  if b is True:
    return a
  if isinstance(a, DenyList) and isinstance(b, DenyList):
    # not-A and not-B == not (A or B)
    return DenyList(union_filters(b.deny, a.deny))
  if isinstance(a, DenyList) or isinstance(b, DenyList):
    denied, other = (a, b) if isinstance(a, DenyList) else (b, a)
    assert isinstance(denied, DenyList)
    # X and not-D == X without D
    return subtract_filters(other, denied.deny)
  return filter_to_set(a) & filter_to_set(b)


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
