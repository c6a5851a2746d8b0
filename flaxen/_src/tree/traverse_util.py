"""Flattening nested dicts to path-keyed dicts and back (``flaxen.traverse_util``).

Invariants:
  * ``flatten_dict`` walks dicts and FrozenDicts in insertion order; the result
    is keyed by key tuples (or ``sep``-joined strings);
  * empty sub-dicts vanish unless ``keep_empty_nodes=True``, which maps them to
    the sentinel ``empty_node`` so that ``unflatten_dict`` can restore them;
    ``empty_node`` is a pytree without leaves, so ``tree_map`` over a flat
    dict passes it through (and keeps it the same object);
  * ``unflatten_dict`` always builds plain dicts; the input and its values are
    never mutated (the reference writes into dict values that a longer path
    runs through; flaxen copies them first);
  * a path that runs through a leaf raises the ``TypeError`` the reference
    raises (``'int' object does not support item assignment``), naming the
    path; inputs of the wrong type raise an error that is both the reference's
    ``AssertionError`` and a ``TypeError``.
The ``Traversal`` family lives in ``traversal.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

Path = tuple[Any, ...]


class _NotADictError(AssertionError, TypeError):
  """The reference asserts on input types; this is also the ``TypeError`` it means."""


@dataclasses.dataclass(frozen=True)
class _EmptyNode:
  """Type of the ``empty_node`` sentinel (a placeholder for an empty dict)."""

  def __reduce__(self):
    return 'empty_node'  # pickles as the module-level singleton


empty_node = _EmptyNode()
_EmptyNode.__module__ = 'flaxen.traverse_util'
_EmptyNode.__qualname__ = '_EmptyNode'

jax.tree_util.register_pytree_node(
  _EmptyNode, lambda node: ((), None), lambda aux, children: empty_node
)


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
    is_leaf: optional ``is_leaf(path, value)``, asked for every (sub-)dict,
      the root included; returning True keeps that dict as one leaf.
    sep: if given, keys are ``sep.join(path)`` strings instead of tuples.

  Returns:
    The flat dict, in depth-first insertion order.

  Raises:
    AssertionError: ``xs`` is not a dict or FrozenDict (the error is also a
      ``TypeError``).

  Example:
    >>> flatten_dict({'foo': 1, 'bar': {'a': 2, 'b': {}}})
    {('foo',): 1, ('bar', 'a'): 2}
    >>> flatten_dict({'Conv_0': {'bias': 0}}, sep='/')
    {'Conv_0/bias': 0}
  """
  if not _is_dict(xs):
    raise _NotADictError(f'expected (frozen)dict; got {type(xs)}')
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


class _Builder:
  """Grows one nested dict from (path, leaf) pairs without touching the inputs."""

  def __init__(self):
    self.root: dict[Any, Any] = {}
    self._owned = {id(self.root)}  # dicts made (or copied) here, safe to write into

  def _writable(self, holder: dict, key: Any, path: tuple) -> dict:
    """The dict under ``holder[key]``, created when absent, copied when not ours."""
    if key not in holder:
      child: Any = {}
    else:
      child = holder[key]
      if not isinstance(child, dict):
        where = f' (unflatten_dict: the path {path!r} runs through the leaf stored at key {key!r})'
        if isinstance(child, FrozenDict):  # the reference tries to write into it
          raise ValueError('FrozenDict is immutable.' + where)
        raise TypeError(f"'{type(child).__name__}' object does not support item assignment" + where)
      if id(child) in self._owned:
        return child
      child = dict(child)
    holder[key] = child
    self._owned.add(id(child))
    return child

  def put(self, path: tuple, leaf: Any) -> None:
    *parents, last = path
    holder = self.root
    for key in parents:
      holder = self._writable(holder, key, path)
    holder[last] = leaf


@set_module('flaxen.traverse_util')
def unflatten_dict(xs: Mapping[Any, Any], sep: str | None = None) -> dict[Any, Any]:
  """Rebuilds a nested plain dict from a flat ``{path: leaf}`` dict.

  Paths are applied in order; a later path may replace an earlier leaf, and a
  longer path may extend a dict stored as a leaf (copied, never mutated).

  Args:
    xs: a flat dict as produced by ``flatten_dict`` (any mapping is accepted).
    sep: the separator used to join string keys (``None`` for tuple keys).

  Returns:
    The nested dict; ``empty_node`` values become empty dicts.

  Raises:
    AssertionError: ``xs`` is not a mapping (the error is also a ``TypeError``).
    TypeError: a path runs through a leaf that is not a dict.

  Example:
    >>> unflatten_dict({('foo',): 1, ('bar', 'a'): 2})
    {'foo': 1, 'bar': {'a': 2}}
    >>> unflatten_dict({'a/b': 1, 'c': 2}, sep='/')
    {'a': {'b': 1}, 'c': 2}
  """
  if not isinstance(xs, Mapping):
    raise _NotADictError(f'input is not a dict; it is a {type(xs)}')
  builder = _Builder()
  for flat_key, leaf in xs.items():
    path = tuple(flat_key.split(sep)) if sep is not None else tuple(flat_key)
    if path == ():
      raise IndexError('tuple index out of range (unflatten_dict: a key is the empty path)')
    builder.put(path, {} if leaf is empty_node else leaf)
  return builder.root


@set_module('flaxen.traverse_util')
def path_aware_map(f: Callable[[Path, Any], Any], nested_dict: Mapping[Any, Any]) -> dict:
  """Maps ``f(path, leaf)`` over a nested dict; returns a nested plain dict.

  Empty sub-dicts are kept (and not passed to ``f``).

  Example:
    >>> params = {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
    >>> path_aware_map(lambda path, x: x + 5 if 'x' in path else -x, params)
    {'a': {'x': 15, 'y': -3}, 'b': {'x': 25}}
  """
  flat = flatten_dict(nested_dict, keep_empty_nodes=True)
  return unflatten_dict(
    {k: (v if v is empty_node else f(k, v)) for k, v in flat.items()}
  )
