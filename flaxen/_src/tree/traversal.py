"""Traversals: composable, non-mutating views for reading and updating nested data.

A ``Traversal`` focuses on a set of values inside an object. ``iterate`` yields
them; ``update(fn, x)`` returns a *copy* of ``x`` with each focused value
replaced by ``fn(value)``; ``set(values, x)`` replaces them in iteration order.
Traversals compose by method chaining from ``t_identity``:
``t_identity.each()['foo']`` focuses on the ``'foo'`` entry of each element.

The whole family is deprecated in the reference: constructing any traversal
emits its ``DeprecationWarning`` (``t_identity`` itself is made silently), and
flaxen does the same, with the same text so that users' warning filters match.

Invariant: no traversal ever mutates its input (nor the ``values`` given to
``set``); containers along the focused path are rebuilt (dicts, FrozenDicts,
lists, tuples, namedtuples, dataclasses).

Where the reference's behaviour is an accident, flaxen keeps what its own
``iterate`` promises: ``t[-1]`` updates the last element of a tuple (the
reference leaves tuples unchanged for that index), and a slice of a list is
updated element by element (the reference hands the whole sub-list to ``fn``).
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jax

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict
from flaxen._src.tree.traverse_util import empty_node, flatten_dict, unflatten_dict

_PUBLIC = 'flaxen.traverse_util'

# the reference's text, verbatim, so that filters written against it keep matching
DEPRECATION_MESSAGE = (
  '`flax.traverse_util.Traversal` will be deprecated. If you are using it for `flax.optim`, '
  'use `optax` instead. Refer to the update guide '
  'https://flax.readthedocs.io/en/latest/guides/converting_and_upgrading/optax_update_guide.html '
  'for detailed instructions.'
)


def _is_namedtuple(x: Any) -> bool:
  return isinstance(x, tuple) and hasattr(x, '_fields')


def _same_kind(template: Any, items: list) -> Any:
  """``items`` in the container type of ``template`` (a list or a tuple)."""
  if _is_namedtuple(template):
    return type(template)(*items)
  if isinstance(template, tuple):
    return type(template)(items)
  return items


def _set_attr(x: Any, name: str, value: Any) -> Any:
  if _is_namedtuple(x):
    return x._replace(**{name: value})
  if dataclasses.is_dataclass(x) and not isinstance(x, type):
    return dataclasses.replace(x, **{name: value})
  fresh = copy.copy(x)
  setattr(fresh, name, value)
  return fresh


@set_module(_PUBLIC)
class Traversal(abc.ABC):
  """Base class of traversals; see the module docstring.

  Constructing one emits the reference's ``DeprecationWarning``.
  """

  def __new__(cls, *args, **kwargs):
    # stacklevel 1, as the reference: attributed to this file, so Python's default filters
    # keep it out of scripts' output and test runners show it
    warnings.warn(DEPRECATION_MESSAGE, DeprecationWarning, stacklevel=1)
    return super().__new__(cls)

  @abc.abstractmethod
  def iterate(self, inputs: Any) -> Iterator[Any]:
    """Yields the focused values of ``inputs``."""

  @abc.abstractmethod
  def update(self, fn: Callable[[Any], Any], inputs: Any) -> Any:
    """Returns a copy of ``inputs`` with each focused value ``v`` replaced by ``fn(v)``."""

  def set(self, values: Iterable[Any], inputs: Any) -> Any:
    """Replaces the focused values, in iteration order, by ``values``.

    Any iterable is accepted and it is not consumed in place (the reference
    pops from the list it is given).

    Raises:
      ValueError: ``values`` has fewer (``'Not enough values provided'``) or
        more (``'Too many values provided'``) entries than there are focused
        values.
    """
    pending = iter(list(values))
    exhausted = object()

    def take(_):
      nxt = next(pending, exhausted)
      if nxt is exhausted:
        raise ValueError('Not enough values provided')
      return nxt

    result = self.update(take, inputs)
    if next(pending, exhausted) is not exhausted:
      raise ValueError('Too many values provided')
    return result

  def compose(self, other: Traversal) -> Traversal:
    """Focuses ``other`` inside each value focused by this traversal."""
    return TraverseCompose(self, other)

  def merge(self, *traversals: Traversal) -> Traversal:
    """Focuses, inside each focused value, the values of all ``traversals`` in turn."""
    return self.compose(TraverseMerge(*traversals))

  def each(self) -> Traversal:
    """Focuses each element of the focused lists/tuples (values of dicts)."""
    return self.compose(TraverseEach())

  def tree(self) -> Traversal:
    """Focuses every pytree leaf of the focused values."""
    return self.compose(TraverseTree())

  def filter(self, fn: Callable[[Any], bool]) -> Traversal:
    """Keeps only focused values for which ``fn`` is true."""
    return self.compose(TraverseFilter(fn))

  def __getattr__(self, attr: str) -> Traversal:
    # dunder lookups (copy, pickle, ...) must not be mistaken for attribute sugar
    if attr.startswith('__') and attr.endswith('__'):
      raise AttributeError(attr)
    return self.compose(TraverseAttr(attr))

  def __getitem__(self, key: Any) -> Traversal:
    return self.compose(TraverseItem(key))


@set_module(_PUBLIC)
class TraverseId(Traversal):
  """The identity traversal: focuses on the input itself."""

  def iterate(self, inputs):
    yield inputs

  def update(self, fn, inputs):
    return fn(inputs)


with warnings.catch_warnings():
  warnings.simplefilter('ignore', DeprecationWarning)
  t_identity = TraverseId()


@set_module(_PUBLIC)
class TraverseMerge(Traversal):
  """Focuses the values of several traversals, one after the other."""

  def __init__(self, *traversals: Traversal):
    self._traversals = traversals

  def iterate(self, inputs):
    for t in self._traversals:
      yield from t.iterate(inputs)

  def update(self, fn, inputs):
    for t in self._traversals:
      inputs = t.update(fn, inputs)
    return inputs


@set_module(_PUBLIC)
class TraverseCompose(Traversal):
  """Focuses ``y`` within each value focused by ``x``."""

  def __init__(self, x: Traversal, y: Traversal):
    self._x = x
    self._y = y

  def iterate(self, inputs):
    for v in self._x.iterate(inputs):
      yield from self._y.iterate(v)

  def update(self, fn, inputs):
    return self._x.update(lambda v: self._y.update(fn, v), inputs)


@set_module(_PUBLIC)
class TraverseFilter(Traversal):
  """Focuses the input only when ``fn(input)`` is true."""

  def __init__(self, fn: Callable[[Any], bool]):
    self._fn = fn

  def iterate(self, inputs):
    if self._fn(inputs):
      yield inputs

  def update(self, fn, inputs):
    return fn(inputs) if self._fn(inputs) else inputs


@set_module(_PUBLIC)
class TraverseAttr(Traversal):
  """Focuses attribute ``attr``; updates rebuild namedtuples and dataclasses, copy others."""

  def __init__(self, attr: str):
    self._attr = attr

  def iterate(self, inputs):
    yield getattr(inputs, self._attr)

  def update(self, fn, inputs):
    return _set_attr(inputs, self._attr, fn(getattr(inputs, self._attr)))


@set_module(_PUBLIC)
class TraverseItem(Traversal):
  """Focuses ``inputs[key]``; a slice key focuses each selected element of a sequence.

  ``update`` applies ``fn`` to the selected elements of a sequence in index
  order (so ``set`` consumes values in index order, as the reference does for
  tuples). On a tuple, an index outside the tuple focuses nothing (the tuple
  comes back unchanged), as in the reference.
  """

  def __init__(self, key: Any):
    self._key = key

  def iterate(self, inputs):
    if isinstance(self._key, slice):
      yield from inputs[self._key]
    else:
      yield inputs[self._key]

  def _positions(self, size: int) -> range:
    key = self._key
    if isinstance(key, slice):
      return range(*key.indices(size))
    position = key + size if key < 0 else key
    return range(position, position + 1) if 0 <= position < size else range(0)

  def update(self, fn, inputs):
    if isinstance(inputs, (tuple, list)) and (
        isinstance(self._key, slice) or isinstance(inputs, tuple)):
      items = list(inputs)
      for i in sorted(self._positions(len(items))):  # in index order, as the reference
        items[i] = fn(items[i])
      return _same_kind(inputs, items)
    if isinstance(inputs, FrozenDict):
      return inputs.copy({self._key: fn(inputs[self._key])})
    fresh = copy.copy(inputs)
    fresh[self._key] = fn(inputs[self._key])
    return fresh


@set_module(_PUBLIC)
class TraverseEach(Traversal):
  """Focuses each element of a list or tuple, or each value of a dict.

  ``iterate`` over other iterables yields what iterating them yields (the keys
  of a FrozenDict); ``update`` accepts exactly ``list``, ``tuple`` and
  ``dict`` (subclasses, namedtuples and FrozenDicts raise ``ValueError``), as in
  the reference.
  """

  def iterate(self, inputs):
    yield from (inputs.values() if isinstance(inputs, dict) else inputs)

  def update(self, fn, inputs):
    kind = type(inputs)
    if kind is dict:
      return {key: fn(value) for key, value in inputs.items()}
    if kind is list or kind is tuple:
      return kind(fn(v) for v in inputs)
    raise ValueError(
      'Only the entries of a list or tuple can be traversed.'
      f' (TraverseEach.update got a {kind.__name__}; plain dicts are accepted too)'
    )


@set_module(_PUBLIC)
class TraverseTree(Traversal):
  """Focuses every leaf of a JAX pytree."""

  def iterate(self, inputs):
    yield from jax.tree_util.tree_leaves(inputs)

  def update(self, fn, inputs):
    return jax.tree_util.tree_map(fn, inputs)


def _param_items(inputs: Any, keep_empty_nodes: bool) -> list[tuple[tuple, Any]]:
  """The flattened parameters in sorted path order (the order the reference visits)."""
  if not isinstance(inputs, (dict, FrozenDict)):
    raise ValueError(
      f'Can only traverse a flax Model instance or a nested dict, not {type(inputs)}'
      ' (ModelParamTraversal takes a nested dict of parameters)'
    )
  flat = flatten_dict(inputs, keep_empty_nodes=keep_empty_nodes)
  return sorted(flat.items(), key=lambda item: item[0])


def _path_name(path: tuple) -> str:
  return '/' + '/'.join(str(k) for k in path)


@set_module(_PUBLIC)
class ModelParamTraversal(Traversal):
  """Selects parameters of a nested param dict by name.

  Parameters are visited (and ``set`` consumes values) in sorted path order;
  ``update`` returns the tree with sorted keys, a FrozenDict for a FrozenDict.

  Args:
    filter_fn: ``filter_fn(name, value) -> bool``, where ``name`` is the
      ``/``-joined path starting with ``/``, e.g. ``'/Dense_0/kernel'``.

  Example:
    >>> import warnings
    >>> params = {'Dense_0': {'kernel': 1, 'bias': 2}}
    >>> with warnings.catch_warnings():  # the whole Traversal family is deprecated
    ...   warnings.simplefilter('ignore', DeprecationWarning)
    ...   t = ModelParamTraversal(lambda name, _: name.endswith('kernel'))
    >>> t.update(lambda x: x * 10, params)
    {'Dense_0': {'bias': 2, 'kernel': 10}}
  """

  def __init__(self, filter_fn: Callable[[str, Any], bool]):
    self._filter_fn = filter_fn

  def _selected(self, path: tuple, value: Any) -> bool:
    return value is not empty_node and self._filter_fn(_path_name(path), value)

  def iterate(self, inputs):
    for path, value in _param_items(inputs, keep_empty_nodes=False):
      if self._selected(path, value):
        yield value

  def update(self, fn, inputs):
    flat = {
      path: fn(value) if self._selected(path, value) else value
      for path, value in _param_items(inputs, keep_empty_nodes=True)
    }
    result = unflatten_dict(flat)
    return FrozenDict(result) if isinstance(inputs, FrozenDict) else result
