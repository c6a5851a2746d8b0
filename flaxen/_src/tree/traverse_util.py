"""Flattening nested dicts to path-keyed dicts and back (``flaxen.traverse_util``).

Invariants:
  * ``flatten_dict`` walks dicts and FrozenDicts in insertion order; the result
    is keyed by key tuples (or ``sep``-joined strings);
  * empty sub-dicts vanish unless ``keep_empty_nodes=True``, which maps them to
    the sentinel ``empty_node`` so that ``unflatten_dict`` can restore them;
  * ``unflatten_dict`` always builds plain (mutable) dicts; inputs are never
    mutated.
The ``Traversal`` family lives in ``traversal.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

Path = tuple[Any, ...]


class _EmptyNode:
  """Type of the ``empty_node`` sentinel (a placeholder for an empty dict)."""

  __slots__ = ()

  def __repr__(self) -> str:
    return 'empty_node'

  def __reduce__(self):
    return 'empty_node'


empty_node = _EmptyNode()
_EmptyNode.__module__ = 'flaxen.traverse_util'


def _is_dict(x: Any) -> bool:
  return isinstance(x, (dict, FrozenDict))


@set_module('flaxen.traverse_util')
def flatten_dict(
  xs: Mapping[Any, Any],
  keep_empty_nodes: bool = False,
  is_leaf: Callable[[Path, Any], bool] | None = None,
  sep: str | None = None,
) -> dict[Any, Any]:
  """Flattens a nested dict into ``{path: leaf}``.

  Args:
    xs: a nested dict or FrozenDict.
    keep_empty_nodes: map empty sub-dicts to ``empty_node`` instead of dropping
      them.
    is_leaf: optional ``is_leaf(path, value)``; returning True stops descent into
      ``value`` (a dict) and keeps it as one leaf.
    sep: if given, keys are ``sep.join(path)`` strings instead of tuples.

  Returns:
    The flat dict, in depth-first insertion order.

  Raises:
    TypeError: ``xs`` is not a dict or FrozenDict.

  Example:
    >>> flatten_dict({'foo': 1, 'bar': {'a': 2, 'b': {}}})
    {('foo',): 1, ('bar', 'a'): 2}
    >>> flatten_dict({'Conv_0': {'bias': 0}}, sep='/')
    {'Conv_0/bias': 0}
  """
  if not _is_dict(xs):
    raise TypeError(f'flatten_dict expects a dict or FrozenDict, got {type(xs).__name__}')
  out: dict[Any, Any] = {}

  def key_of(path: Path) -> Any:
    return sep.join(path) if sep is not None else path

  def walk(node: Any, path: Path) -> None:
    if not _is_dict(node) or (is_leaf is not None and is_leaf(path, node)):
      out[key_of(path)] = node
      return
    if not node:
      if keep_empty_nodes and path:
        out[key_of(path)] = empty_node
      return
    for k, v in node.items():
      walk(v, (*path, k))

  walk(xs, ())
  return out


@set_module('flaxen.traverse_util')
def unflatten_dict(xs: Mapping[Any, Any], sep: str | None = None) -> dict[Any, Any]:
  """Rebuilds a nested plain dict from a flat ``{path: leaf}`` dict.

  Args:
    xs: a flat dict as produced by ``flatten_dict``.
    sep: the separator used to join string keys (``None`` for tuple keys).

  Returns:
    The nested dict; ``empty_node`` values become empty dicts.

  Raises:
    ValueError: two paths conflict (one is a prefix of another's leaf).

  Example:
    >>> unflatten_dict({('foo',): 1, ('bar', 'a'): 2})
    {'foo': 1, 'bar': {'a': 2}}
  """
  if not _is_dict(xs):
    raise TypeError(f'unflatten_dict expects a dict, got {type(xs).__name__}')
  out: dict[Any, Any] = {}
  for path, value in xs.items():
    if sep is not None:
      path = path.split(sep)
    if value is empty_node:
      value = {}
    cursor = out
    for k in path[:-1]:
      nxt = cursor.get(k)
      if nxt is None:
        nxt = cursor[k] = {}
      elif not isinstance(nxt, dict):
        raise ValueError(f'unflatten_dict: path {path!r} runs through the leaf at key {k!r}')
      cursor = nxt
    cursor[path[-1]] = value
  return out


@set_module('flaxen.traverse_util')
def path_aware_map(f: Callable[[Path, Any], Any], nested_dict: Mapping[Any, Any]) -> dict:
  """Maps ``f(path, leaf)`` over a nested dict; returns a nested plain dict.

  Example:
    >>> params = {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
    >>> path_aware_map(lambda path, x: x + 5 if 'x' in path else -x, params)
    {'a': {'x': 15, 'y': -3}, 'b': {'x': 25}}
  """
  flat = flatten_dict(nested_dict, keep_empty_nodes=True)
  return unflatten_dict(
    {k: (v if v is empty_node else f(k, v)) for k, v in flat.items()}
  )
