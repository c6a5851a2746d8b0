"""Traversals: composable, non-mutating views for reading and updating nested data.

A ``Traversal`` focuses on a set of values inside an object. ``iterate`` yields
them; ``update(fn, x)`` returns a *copy* of ``x`` with each focused value
replaced by ``fn(value)``; ``set(values, x)`` replaces them in iteration order.
Traversals compose by method chaining from ``t_identity``:
``t_identity.each()['foo']`` focuses on the ``'foo'`` entry of each element.

Invariant: no traversal ever mutates its input; containers along the focused
path are rebuilt (dicts, FrozenDicts, lists, tuples, namedtuples, dataclasses).
"""

from __future__ import annotations

import abc
import copy
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import jax

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict
from flaxen._src.tree.traverse_util import empty_node, flatten_dict, unflatten_dict


def _is_namedtuple(x: Any) -> bool:
  return isinstance(x, tuple) and hasattr(x, '_fields')


def _rebuild_sequence(x: Any, items: list) -> Any:
  if _is_namedtuple(x):
    return type(x)(*items)
  if isinstance(x, tuple):
    return tuple(items)
  if isinstance(x, list):
    return items
  raise TypeError(f'Cannot rebuild a {type(x).__name__}; expected a list or tuple')


def _set_item(x: Any, key: Any, value: Any) -> Any:
  if isinstance(x, FrozenDict):
    return x.copy({key: value})
  if isinstance(x, dict):
    new = dict(x)
    new[key] = value
    return new
  if isinstance(x, (list, tuple)):
    items = list(x)
    items[key] = value
    return _rebuild_sequence(x, items)
  new = copy.copy(x)
  new[key] = value
  return new


def _set_attr(x: Any, name: str, value: Any) -> Any:
  if dataclasses.is_dataclass(x) and not isinstance(x, type):
    return dataclasses.replace(x, **{name: value})
  if _is_namedtuple(x):
    return x._replace(**{name: value})
  new = copy.copy(x)
  setattr(new, name, value)
  return new


@set_module('flaxen.traverse_util')
class Traversal(abc.ABC):
  """Base class of traversals; see the module docstring."""

  @abc.abstractmethod
  def iterate(self, inputs: Any) -> Iterator[Any]:
    """Yields the focused values of ``inputs``."""

  @abc.abstractmethod
  def update(self, fn: Callable[[Any], Any], inputs: Any) -> Any:
    """Returns a copy of ``inputs`` with each focused value ``v`` replaced by ``fn(v)``."""

  def set(self, values: list[Any], inputs: Any) -> Any:
    """Replaces the focused values, in iteration order, by ``values``.

    Raises:
      ValueError: ``values`` has fewer entries than there are focused values.
    """
    it = iter(values)

    def next_value(_):
      try:
        return next(it)
      except StopIteration:
        raise ValueError('Not enough values provided to Traversal.set') from None

    return self.update(next_value, inputs)

  def compose(self, other: Traversal) -> Traversal:
    """Focuses ``other`` inside each value focused by this traversal."""
    return TraverseCompose(self, other)

  def merge(self, *traversals: Traversal) -> Traversal:
    """Focuses the union of this traversal and ``traversals``."""
    return TraverseMerge(self, *traversals)

  def each(self) -> Traversal:
    """Focuses each element of the focused lists/tuples."""
    return self.compose(TraverseEach())

  def tree(self) -> Traversal:
    """Focuses every pytree leaf of the focused values."""
    return self.compose(TraverseTree())

  def filter(self, fn: Callable[[Any], bool]) -> Traversal:
    """Keeps only focused values for which ``fn`` is true."""
    return self.compose(TraverseFilter(fn))

  def __getattr__(self, attr: str) -> Traversal:
    if attr.startswith('_'):
      raise AttributeError(attr)
    return self.compose(TraverseAttr(attr))

  def __getitem__(self, key: Any) -> Traversal:
    return self.compose(TraverseItem(key))


@set_module('flaxen.traverse_util')
class TraverseId(Traversal):
  """The identity traversal: focuses on the input itself."""

  def iterate(self, inputs):
    yield inputs

  def update(self, fn, inputs):
    return fn(inputs)


t_identity = TraverseId()


@set_module('flaxen.traverse_util')
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


@set_module('flaxen.traverse_util')
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


@set_module('flaxen.traverse_util')
class TraverseFilter(Traversal):
  """Focuses the input only when ``fn(input)`` is true."""

  def __init__(self, fn: Callable[[Any], bool]):
    self._fn = fn

  def iterate(self, inputs):
    if self._fn(inputs):
      yield inputs

  def update(self, fn, inputs):
    return fn(inputs) if self._fn(inputs) else inputs


@set_module('flaxen.traverse_util')
class TraverseAttr(Traversal):
  """Focuses attribute ``attr``; updates rebuild dataclasses and namedtuples."""

  def __init__(self, attr: str):
    self._attr = attr

  def iterate(self, inputs):
    yield getattr(inputs, self._attr)

  def update(self, fn, inputs):
    return _set_attr(inputs, self._attr, fn(getattr(inputs, self._attr)))


@set_module('flaxen.traverse_util')
class TraverseItem(Traversal):
  """Focuses ``inputs[key]``; a slice key focuses each selected element of a sequence."""

  def __init__(self, key: Any):
    self._key = key

  def iterate(self, inputs):
    if isinstance(self._key, slice):
      for i in range(*self._key.indices(len(inputs))):
        yield inputs[i]
    else:
      yield inputs[self._key]

  def update(self, fn, inputs):
    if isinstance(self._key, slice):
      items = list(inputs)
      for i in range(*self._key.indices(len(items))):
        items[i] = fn(items[i])
      return _rebuild_sequence(inputs, items)
    return _set_item(inputs, self._key, fn(inputs[self._key]))


@set_module('flaxen.traverse_util')
class TraverseEach(Traversal):
  """Focuses each element of a list or tuple."""

  def iterate(self, inputs):
    yield from inputs

  def update(self, fn, inputs):
    return _rebuild_sequence(inputs, [fn(v) for v in inputs])


@set_module('flaxen.traverse_util')
class TraverseTree(Traversal):
  """Focuses every leaf of a JAX pytree."""

  def iterate(self, inputs):
    yield from jax.tree_util.tree_leaves(inputs)

  def update(self, fn, inputs):
    return jax.tree_util.tree_map(fn, inputs)


def _param_items(inputs: Any) -> dict:
  if not isinstance(inputs, (dict, FrozenDict)):
    raise ValueError(
      f'ModelParamTraversal can only traverse a nested dict of parameters, not {type(inputs)}'
    )
  return flatten_dict(inputs, keep_empty_nodes=True)


def _path_name(path: tuple) -> str:
  return '/' + '/'.join(str(k) for k in path)


@set_module('flaxen.traverse_util')
class ModelParamTraversal(Traversal):
  """Selects parameters of a nested param dict by name.

  Args:
    filter_fn: ``filter_fn(name, value) -> bool``, where ``name`` is the
      ``/``-joined path starting with ``/``, e.g. ``'/Dense_0/kernel'``.

  Example:
    >>> params = {'Dense_0': {'kernel': 1, 'bias': 2}}
    >>> t = ModelParamTraversal(lambda name, _: name.endswith('kernel'))
    >>> t.update(lambda x: x * 10, params)
    {'Dense_0': {'kernel': 10, 'bias': 2}}
  """

  def __init__(self, filter_fn: Callable[[str, Any], bool]):
    self._filter_fn = filter_fn

  def iterate(self, inputs):
    for path, value in _param_items(inputs).items():
      if value is not empty_node and self._filter_fn(_path_name(path), value):
        yield value

  def update(self, fn, inputs):
    flat = _param_items(inputs)
    new = {}
    for path, value in flat.items():
      if value is not empty_node and self._filter_fn(_path_name(path), value):
        value = fn(value)
      new[path] = value
    result = unflatten_dict(new)
    if isinstance(inputs, FrozenDict):
      return FrozenDict(result)
    return result
