"""Cursors: write "change this one leaf" against immutable nested data (``flaxen.cursor``).

``cursor(obj)`` wraps a nested structure (dicts, FrozenDicts, lists, tuples,
namedtuples, dataclasses, ...). Indexing (``c['a']``) and attribute access
(``c.params``) walk down and return child cursors; assigning
(``c['a'] = 1``, ``c.lr = 0.1``) records a change; ``build()`` returns a copy of
the original with every recorded change applied, bottom-up, and ``set(v)`` is
"record this one change, then build from the root". ``apply_update``,
``find`` and ``find_all`` walk the whole structure with a function of
``(path, value)``.

Invariants:
  * the wrapped object is never mutated: containers on a changed path are
    copied (``dict.copy()``, ``FrozenDict.copy``, ``_replace``,
    ``dataclasses.replace``); objects of other types are returned unchanged
    by ``build`` (changes recorded on them are dropped, as in the reference);
  * a cursor's state is three slots written only here: ``_obj`` (the wrapped
    value), ``_parent_key`` (how the parent reached it, ``None`` at the root)
    and ``_changes`` (key -> child cursor). Every other attribute assignment is
    a recorded change;
  * walks visit dict entries in order, namedtuple fields and dataclass
    ``init`` fields as attributes, list/tuple elements by index, and never
    call the function on the root itself; a walk does not descend below a
    changed (``apply_update``) or matching (``find``) value;
  * arithmetic and comparison operators act on the wrapped value and return
    plain values (so ``c['w'] += 1`` reads, adds and records).
"""

from __future__ import annotations

import dataclasses
import enum
import operator
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from flaxen._src.errors import CursorFindError, TraverseTreeError
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict
from flaxen._src.typing import Key

A = TypeVar('A')
_PUBLIC = 'flaxen.cursor'
_SLOTS = ('_obj', '_parent_key', '_changes')


@set_module(_PUBLIC)
@runtime_checkable
class Indexable(Protocol):
  """Anything with ``__getitem__`` (what ``Cursor.__getitem__`` may index into)."""

  def __getitem__(self, key) -> Any: ...


@set_module(_PUBLIC)
class AccessType(enum.Enum):
  """How a child cursor was reached from its parent: ``obj[key]`` or ``obj.key``."""

  ITEM = enum.auto()
  ATTR = enum.auto()


@set_module(_PUBLIC)
@dataclasses.dataclass
class ParentKey(Generic[A]):
  """A child cursor's link to its parent: the parent, the key and the access type."""

  parent: Cursor[A]
  key: Key
  access_type: AccessType


@set_module(_PUBLIC)
def is_named_tuple(obj: Any) -> bool:
  """Whether ``obj`` is a namedtuple instance (a tuple with ``_fields``, ``_asdict``, ``_replace``).

  Example:
    >>> import collections
    >>> is_named_tuple(collections.namedtuple('P', 'x y')(1, 2)), is_named_tuple((1, 2))
    (True, False)
  """
  if not isinstance(obj, tuple):
    return False
  return all(hasattr(obj, name) for name in ('_fields', '_asdict', '_replace'))


# ----------------------------------------------------------------------------- walking

Path = tuple[tuple[Any, AccessType], ...]


def _children(obj: Any) -> tuple[Iterator[tuple[Any, Any]], AccessType] | None:
  """The (key, value) pairs a walk descends into, and how they are accessed."""
  if isinstance(obj, (FrozenDict, dict)):
    return iter(obj.items()), AccessType.ITEM
  if is_named_tuple(obj):
    return ((name, getattr(obj, name)) for name in obj._fields), AccessType.ATTR
  if isinstance(obj, (list, tuple)):
    return enumerate(obj), AccessType.ITEM
  if dataclasses.is_dataclass(obj):
    names = [f.name for f in dataclasses.fields(obj) if f.init]
    return ((name, getattr(obj, name)) for name in names), AccessType.ATTR
  return None


def _path_text(path: Path) -> str:
  return '/'.join(str(key) for key, _ in path)


def _walk(path: Path, obj: Any, update_fn: Callable | None, cond_fn: Callable | None):
  """Yields ``(path, new value)`` (update mode) or ``path`` (find mode), depth first.

  Exactly one of ``update_fn`` / ``cond_fn`` must be given (truthy).
  """
  if bool(update_fn) == bool(cond_fn):
    raise TraverseTreeError(update_fn, cond_fn)
  if path:  # the root itself is never offered to the function
    if update_fn:
      replaced = update_fn(_path_text(path), obj)
      if replaced is not obj:
        yield path, replaced
        return
    elif cond_fn(_path_text(path), obj):  # type: ignore[misc]  # one of the two is given
      yield path
      return
  found = _children(obj)
  if found is None:
    return
  pairs, access = found
  for key, value in pairs:
    yield from _walk((*path, (key, access)), value, update_fn, cond_fn)


def _descend(start: Cursor, steps: Path) -> Cursor:
  """Follows ``steps`` from ``start`` through item / attribute access."""
  node = start
  for key, access in steps:
    node = node[key] if access is AccessType.ITEM else getattr(node, key)
  return node


# ----------------------------------------------------------------------------- building


def _apply_changes(obj: Any, changes: dict[Any, Any]) -> Any:
  """A copy of ``obj`` with ``changes`` (key -> new value) applied at its top level."""
  if isinstance(obj, FrozenDict):
    return obj.copy(changes)
  if isinstance(obj, (dict, list)):
    fresh = obj.copy()
    for key, value in changes.items():
      fresh[key] = value
    return fresh
  if is_named_tuple(obj):
    return obj._replace(**changes)
  if isinstance(obj, tuple):
    items = list(obj)
    for index, value in changes.items():
      items[index] = value
    return tuple(items)
  if dataclasses.is_dataclass(obj):
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]  # an instance here
  return obj


def _render(node: Cursor, indent: int, base: int) -> str:
  """The reference's cursor repr: ``_obj`` then the nested ``_changes``."""
  inner = ' ' * (base + indent)
  obj_text = repr(node._obj).replace('\n', '\n' + inner)
  text = f'Cursor(\n{inner}_obj={obj_text},\n{inner}_changes={{'
  if node._changes:
    entries = []
    for key, child in node._changes.items():
      head = ' ' * (base + 2 * indent) + repr(key) + ': '
      entries.append(head + _render(child, indent, len(head)))
    text += '\n' + ',\n'.join(entries) + '\n' + inner + '}\n'
  else:
    text += '}\n'
  return text + ' ' * base + ')'


@set_module(_PUBLIC)
class Cursor(Generic[A]):
  """A position inside a nested object, recording changes to build a modified copy.

  Create one with ``cursor(obj)``; see the module docstring for the model.

  Args:
    obj: the wrapped value.
    parent_key: how the parent reached this cursor (``None`` for a root).
  """

  _obj: A
  _parent_key: ParentKey[A] | None
  _changes: dict[Any, Cursor[A]]

  __hash__ = None  # type: ignore[assignment]  # __eq__ compares the wrapped value

  def __init__(self, obj: A, parent_key: ParentKey[A] | None):
    state = vars(self)  # not through __setattr__, which records changes
    state['_obj'] = obj
    state['_parent_key'] = parent_key
    state['_changes'] = {}

  # --- position

  @property
  def _root(self) -> Cursor[A]:
    node = self
    while node._parent_key is not None:
      node = node._parent_key.parent
    return node

  @property
  def _path(self) -> str:
    """``['a'][0].b``-style path from the root (empty at the root)."""
    link = self._parent_key
    if link is None:
      return ''
    if link.access_type is AccessType.ATTR:
      return f'{link.parent._path}.{link.key}'
    key = f"'{link.key}'" if isinstance(link.key, str) else str(link.key)
    return f'{link.parent._path}[{key}]'

  # --- moving down and recording

  def _child(self, key: Any, value: Any, access: AccessType) -> Cursor[A]:
    node = Cursor(value, ParentKey(self, key, access))
    self._changes[key] = node
    return node

  def __getitem__(self, key) -> Cursor[A]:
    if key in self._changes:
      return self._changes[key]
    obj = self._obj
    if not isinstance(obj, Indexable):
      raise TypeError(f'Cannot index into {obj}')
    if isinstance(obj, Mapping) and key not in obj:
      raise KeyError(f'Key {key} not found in {obj}')
    if is_named_tuple(obj):
      return getattr(self, obj._fields[key])  # type: ignore[attr-defined]
    return self._child(key, obj[key], AccessType.ITEM)

  def __getattr__(self, name: str) -> Cursor[A]:
    if name in _SLOTS:  # not set yet (e.g. a copy under construction)
      raise AttributeError(name)
    if name in self._changes:
      return self._changes[name]
    if not hasattr(self._obj, name):
      raise AttributeError(f'Attribute {name} not found in {self._obj}')
    return self._child(name, getattr(self._obj, name), AccessType.ATTR)

  def __setitem__(self, key, value) -> None:
    if is_named_tuple(self._obj):
      setattr(self, self._obj._fields[key], value)  # type: ignore[attr-defined]
      return
    self._child(key, value, AccessType.ITEM)

  def __setattr__(self, name: str, value: Any) -> None:
    self._child(name, value, AccessType.ATTR)

  # --- producing results

  def set(self, value: Any) -> A:
    """Replaces the value at this cursor and returns the modified copy of the root object.

    Example:
      >>> cursor({'a': 1, 'b': (2, 3)})['b'][0].set(10)
      {'a': 1, 'b': (10, 3)}
    """
    link = self._parent_key
    if link is None:
      return value
    link.parent._changes[link.key] = Cursor(value, link)
    return link.parent._root.build()

  def build(self) -> A:
    """Returns a copy of the wrapped object with every recorded change applied.

    Changes are applied bottom-up: children are built first, then their
    parents are copied with the new children.

    Example:
      >>> c = cursor({'a': 1, 'b': (2, 3), 'c': [4, 5]})
      >>> c['b'][0] = 10
      >>> c['a'] = (100, 200)
      >>> c.build()
      {'a': (100, 200), 'b': (10, 3), 'c': [4, 5]}
    """
    built = {
      key: child.build() if isinstance(child, Cursor) else child
      for key, child in self._changes.items()
    }
    return _apply_changes(self._obj, built)

  def apply_update(self, update_fn: Callable[[str, Any], Any]) -> Cursor[A]:
    """Records ``update_fn(path, value)`` wherever it returns a different object.

    ``path`` is the ``/``-joined key path (``'params/Dense_0/kernel'``). A
    value counts as changed when the returned object ``is not`` the input (so
    return a copy when changing a mutable container); changed values are not
    descended into, and the root is never offered. Call ``build()`` for the
    result.

    Example:
      >>> params = {'dense': {'kernel': 1.0, 'bias': 0.0}, 'scale': 2.0}
      >>> double = lambda path, v: v * 2 if path.endswith('kernel') else v
      >>> cursor(params).apply_update(double).build()
      {'dense': {'kernel': 2.0, 'bias': 0.0}, 'scale': 2.0}

    Returns:
      This cursor (for chaining).
    """
    for path, value in _walk((), self._obj, update_fn, None):
      *steps, (key, access) = path
      parent = _descend(self, tuple(steps))
      if access is AccessType.ITEM:
        parent[key] = value
      else:
        setattr(parent, key, value)
    return self

  def find(self, cond_fn: Callable[[str, Any], bool]) -> Cursor[A]:
    """The only child cursor whose ``(path, value)`` satisfies ``cond_fn``.

    Example:
      >>> params = {'Dense_0': {'bias': 0}, 'Dense_1': {'bias': 0}}
      >>> cursor(params).find(lambda path, v: path == 'Dense_1')['bias'].set(5)
      {'Dense_0': {'bias': 0}, 'Dense_1': {'bias': 5}}

    Raises:
      CursorFindError: no match, or more than one (the message names the first
        two paths; the reference instead raises a ``TypeError`` when the
        matched values have no ``len``).
    """
    matches = self.find_all(cond_fn)
    first = next(matches, None)
    if first is None:
      raise CursorFindError()
    second = next(matches, None)
    if second is not None:
      raise CursorFindError(first, second)
    return first

  def find_all(self, cond_fn: Callable[[str, Any], bool]) -> Generator[Cursor[A], None, None]:
    """Yields a child cursor for every ``(path, value)`` satisfying ``cond_fn``.

    A match is not searched below; the root is never offered.

    Example:
      >>> c = cursor({'a': {'w': 1}, 'b': {'w': 2}, 'n': 3})
      >>> for sub in c.find_all(lambda path, v: isinstance(v, dict)):
      ...   sub['w'] += 10
      >>> c.build()
      {'a': {'w': 11}, 'b': {'w': 12}, 'n': 3}
    """
    for path in _walk((), self._obj, None, cond_fn):
      yield _descend(self, path)

  # --- the wrapped value's own protocols
  # (the wrapped type is not constrained: where it lacks a protocol, the call raises
  # TypeError as the reference's does, hence the ignores)

  def __str__(self) -> str:
    return str(self._obj)

  def __repr__(self) -> str:
    return _render(self, 2, 0)

  def __len__(self) -> int:
    return len(self._obj)  # type: ignore[arg-type]

  def _positions(self, method: str, order: range) -> Iterator[Cursor[A]]:
    if not isinstance(self._obj, (tuple, list)):
      raise NotImplementedError(
        f'{method} method only implemented for tuples and lists, not type {type(self._obj)}'
      )
    return (self[i] for i in order)

  def __iter__(self) -> Iterator[Cursor[A]]:
    return self._positions('__iter__', range(len(self._obj)))  # type: ignore[arg-type]

  def __reversed__(self) -> Iterator[Cursor[A]]:
    return self._positions('__reversed__', range(len(self._obj) - 1, -1, -1))  # type: ignore[arg-type]

  def __round__(self, ndigits: int | None = None) -> Any:
    return round(self._obj, ndigits)  # type: ignore[call-overload]


# Operators act on the wrapped value and return plain values; generated from tables.
_BINARY: dict[str, Callable[..., Any]] = {
  'add': operator.add, 'sub': operator.sub, 'mul': operator.mul, 'matmul': operator.matmul,
  'truediv': operator.truediv, 'floordiv': operator.floordiv, 'mod': operator.mod,
  'divmod': divmod, 'pow': pow, 'lshift': operator.lshift, 'rshift': operator.rshift,
  'and': operator.and_, 'xor': operator.xor, 'or': operator.or_,
}
_COMPARISONS: dict[str, Callable[..., Any]] = {
  'lt': operator.lt, 'le': operator.le, 'eq': operator.eq,
  'ne': operator.ne, 'gt': operator.gt, 'ge': operator.ge,
}
_UNARY: dict[str, Callable[..., Any]] = {'neg': operator.neg, 'pos': operator.pos, 'abs': abs, 'invert': operator.invert}


def _install(name: str, method: Callable) -> None:
  method.__name__ = name
  method.__qualname__ = f'Cursor.{name}'
  setattr(Cursor, name, method)


def _forward(op: Callable) -> Callable:
  return lambda self, other: op(self._obj, other)


def _reflected(op: Callable) -> Callable:
  return lambda self, other: op(other, self._obj)


def _unary(op: Callable) -> Callable:
  return lambda self: op(self._obj)


for _name, _op in {**_BINARY, **_COMPARISONS}.items():
  _install(f'__{_name}__', _forward(_op))
for _name, _op in _BINARY.items():
  _install(f'__r{_name}__', _reflected(_op))
for _name, _op in _UNARY.items():
  _install(f'__{_name}__', _unary(_op))
del _name, _op


@set_module(_PUBLIC)
def cursor(obj: A) -> Cursor[A]:
  """Wraps ``obj`` in a root ``Cursor``.

  Change the wrapped structure with ``.set`` (one change), item/attribute
  assignment followed by ``.build``, or ``.apply_update`` followed by
  ``.build``; locate parts with ``.find`` / ``.find_all``.

  Example:
    >>> from flaxen.cursor import cursor
    >>> data = {'a': 1, 'b': (2, 3), 'c': [4, 5]}
    >>> cursor(data)['c'][1].set(50)
    {'a': 1, 'b': (2, 3), 'c': [4, 50]}
    >>> data
    {'a': 1, 'b': (2, 3), 'c': [4, 5]}
  """
  return Cursor(obj, None)
