"""FrozenDict: an immutable, hashable mapping that is a JAX pytree.

Invariants:
  * storage is the reference's: one FrozenDict at the top holding a private
    tree of plain dicts. Construction copies every nested ``dict`` (the caller
    keeps no handle on it) and takes the inner dict of a nested FrozenDict as
    it is (immutable, so shared); nothing ever writes to the stored dicts;
  * reading a nested level (``fd['params']``, ``get``, ``items``, ``values``)
    hands it out as a FrozenDict wrapping the stored dict, without copying;
    the wrapper is made once per key and kept, so its caches stay warm;
  * item assignment raises ``ValueError('FrozenDict is immutable.')``;
  * as a pytree, only the top level is a custom node: its children, flattened
    in SORTED key order (keys are ``jax.tree_util.DictKey``), include the
    nested plain dicts, which JAX flattens and rebuilds natively. The treedef
    is the reference's (``CustomNode(FrozenDict[...], [{...}, ...])``), and
    ``jit`` / ``tree_map`` pay for one Python callback per FrozenDict, not one
    per nested level. Iteration and printing keep insertion order, so the
    output of ``tree_map`` prints sorted;
  * the flattened form of the top level is computed once per instance and
    cached;
  * the reference's observable details are kept: ``keys()``/``values()`` are
    views printed as ``frozen_dict_keys([...])``/``frozen_dict_values([...])``;
    ``unfreeze`` of a FrozenDict (and hence pickling, ``deepcopy`` and
    ``copy``'s additions) sorts keys level by level as a ``tree_map`` would,
    while ``unfreeze`` of a plain dict keeps its order; ``core.copy`` /
    ``core.pop`` on a plain dict rebuild it with ``tree_map`` (sorted keys,
    containers copied, FrozenDicts kept);
  * ``repr`` is ``pretty_repr()``: ``FrozenDict({`` then one ``key: value,`` per
    line with unquoted keys, each line of the body (blank ones too) indented by
    4 spaces, then ``})``; nested levels print as ``{...}``.
"""

from __future__ import annotations

import collections.abc
from collections.abc import Hashable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import jax

from flaxen._src.public import set_module

K = TypeVar('K', bound=Hashable)
V = TypeVar('V')

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def _stored(v: Any) -> Any:
  """A value as a FrozenDict stores it: nested dicts as fresh plain dicts (copied all the
  way down), a nested FrozenDict as its own (immutable, shared) inner dict."""
  if isinstance(v, FrozenDict):
    return v._dict
  if isinstance(v, dict):
    return {k: _stored(x) for k, x in v.items()}
  return v


def _sorted_keys(d: dict) -> tuple:
  try:
    return tuple(sorted(d))
  except TypeError:  # keys of mixed, unorderable types: still deterministic
    return tuple(sorted(d, key=lambda k: (type(k).__name__, repr(k))))


def _identity(leaf: Any) -> Any:
  return leaf


def _rebuild(tree: Any) -> Any:
  """A ``tree_map`` copy: containers rebuilt (dict keys sorted), leaves shared."""
  return jax.tree_util.tree_map(_identity, tree)



@set_module('flaxen.core.frozen_dict')
class FrozenKeysView(collections.abc.KeysView):
  """The keys of a FrozenDict, printed as ``frozen_dict_keys([...])``."""

  _mapping: Mapping[Any, Any]  # set by MappingView.__init__ (undeclared in typeshed)

  def __iter__(self) -> Iterator[Any]:
    return iter(self._mapping)  # the mapping's own (C-level) iterator, not a generator

  def __repr__(self) -> str:
    return f'frozen_dict_keys({list(self)})'


@set_module('flaxen.core.frozen_dict')
class FrozenItemsView(collections.abc.ItemsView):
  """The ``(key, value)`` pairs of a FrozenDict; nested levels come out as FrozenDicts."""

  _mapping: Mapping[Any, Any]  # set by collections.abc's view constructor

  def __iter__(self) -> Iterator[tuple[Any, Any]]:
    mapping = self._mapping
    return ((key, mapping[key]) for key in mapping)

  def __repr__(self) -> str:
    return f'frozen_dict_items({list(self)})'


@set_module('flaxen.core.frozen_dict')
class FrozenValuesView(collections.abc.ValuesView):
  """The values of a FrozenDict, printed as ``frozen_dict_values([...])``."""

  _mapping: Mapping[Any, Any]  # set by MappingView.__init__ (undeclared in typeshed)

  def __iter__(self) -> Iterator[Any]:
    mapping = self._mapping
    return (mapping[key] for key in mapping)

  def __repr__(self) -> str:
    return f'frozen_dict_values({list(self)})'


@set_module('flaxen.core.frozen_dict')
class FrozenDict(Mapping[K, V]):
  """An immutable variant of the Python dict.

  Nested dicts are frozen on construction; ``copy`` and ``pop`` return new
  FrozenDicts instead of mutating.

  Example:
    >>> fd = FrozenDict({'params': {'bias': 0, 'kernel': 1}})
    >>> fd['params']['kernel']
    1
    >>> fd
    FrozenDict({
        params: {
            bias: 0,
            kernel: 1,
        },
    })
  """

  __slots__ = ('_dict', '_hash', '_flat', '_views')

  _dict: dict[Any, Any]
  _views: dict[Any, FrozenDict] | None
  _hash: int | None
  # (values, ((DictKey, value), ...), sorted keys), computed on the first flatten
  _flat: tuple[tuple[Any, ...], tuple[tuple[Any, Any], ...], tuple] | None

  def __init__(self, *args, __unsafe_skip_copy__: bool = False, **kwargs):
    xs = dict(*args, **kwargs)
    if not __unsafe_skip_copy__:
      for k, v in xs.items():
        if isinstance(v, dict):  # FrozenDict is not a dict: it is handled by _stored
          xs[k] = _stored(v)
        elif isinstance(v, FrozenDict):
          xs[k] = v._dict
    self._dict = xs
    self._hash = None
    self._flat = None
    self._views = None

  # --- Mapping protocol ---

  def __getitem__(self, key):
    value = self._dict[key]
    if isinstance(value, dict):
      return self._view(key, value)
    return value

  def _view(self, key, inner: dict) -> FrozenDict:
    """The nested level ``key`` as a FrozenDict over the stored dict (made once)."""
    views = self._views
    if views is None:
      views = {}
      self._views = views
    view = views.get(key)
    if view is None or view._dict is not inner:
      view = views[key] = _wrap(inner)
    return view

  def __contains__(self, key) -> bool:
    return key in self._dict

  def __iter__(self) -> Iterator[K]:
    return iter(self._dict)

  def __len__(self) -> int:
    return len(self._dict)

  def keys(self) -> FrozenKeysView:
    return FrozenKeysView(self)

  def values(self) -> FrozenValuesView:
    return FrozenValuesView(self)

  def items(self) -> FrozenItemsView:
    return FrozenItemsView(self)

  def get(self, key, default=None):
    if key in self._dict:
      return self[key]
    return default

  def __setitem__(self, key, value):
    raise ValueError('FrozenDict is immutable.')

  def __hash__(self) -> int:
    # the reference's hash: the XOR of the hashes of the (key, value) pairs
    if self._hash is None:
      mixed = 0
      for pair in self.items():
        mixed ^= hash(pair)
      self._hash = mixed
    return self._hash

  def __eq__(self, other):
    if isinstance(other, FrozenDict):
      return self._dict == other._dict
    if isinstance(other, Mapping):
      return self._dict == dict(other.items())
    return NotImplemented

  def __repr__(self) -> str:
    return self.pretty_repr()

  def __reduce__(self):
    # pickles (and deep copies) carry the unfrozen, key-sorted contents, as the reference's
    return (type(self), (unfreeze(self),))

  # --- functional updates ---

  def copy(self, add_or_replace: Mapping[K, V] = _EMPTY) -> FrozenDict[K, V]:
    """Returns a new FrozenDict with ``add_or_replace`` added or replaced.

    The additions go through ``unfreeze`` first, as in the reference (so the
    keys of FrozenDicts among them come out sorted).

    Example:
      >>> FrozenDict({'a': 1}).copy({'b': 2})
      FrozenDict({
          a: 1,
          b: 2,
      })
    """
    merged = dict(self._dict)
    merged.update(unfreeze(add_or_replace))  # fresh plain dicts: stored as they are
    return _wrap(merged) if type(self) is FrozenDict else type(self)(merged)

  def pop(self, key: K) -> tuple[FrozenDict[K, V], V]:
    """Removes ``key``; returns ``(new FrozenDict without key, its value)``.

    Example:
      >>> state, params = FrozenDict({'params': 1, 'stats': 2}).pop('params')
      >>> params, dict(state)
      (1, {'stats': 2})

    Raises:
      KeyError: ``key`` is absent.
    """
    value = self[key]
    rest = {k: v for k, v in self._dict.items() if k != key}
    return (_wrap(rest) if type(self) is FrozenDict else type(self)(rest)), value

  def unfreeze(self) -> dict[K, V]:
    """Returns a nested plain-dict copy (see the module function ``unfreeze``)."""
    return unfreeze(self)

  def pretty_repr(self, num_spaces: int = 4) -> str:
    """The repr with one ``key: value,`` per line and ``num_spaces`` indentation."""
    return f'FrozenDict({_pretty(self, num_spaces, _FROZEN_LEVELS)})'

  # --- pytree protocol ---

  def tree_flatten_with_keys(self) -> tuple[tuple[tuple[Any, Any], ...], tuple]:
    """Flattens with sorted keys: ``(((DictKey(k), value), ...), sorted_keys)``."""
    flat = self._flat
    if flat is None:
      keys = _sorted_keys(self._dict)
      d = self._dict
      values = tuple(d[k] for k in keys)
      keyed = tuple((jax.tree_util.DictKey(k), v) for k, v in zip(keys, values))
      flat = self._flat = (values, keyed, keys)
    return flat[1], flat[2]

  def tree_flatten(self) -> tuple[tuple[Any, ...], tuple]:
    """Flattens with sorted keys: ``((value, ...), sorted_keys)``."""
    flat = self._flat
    if flat is None:
      self.tree_flatten_with_keys()
      flat = self._flat
      assert flat is not None  # set by tree_flatten_with_keys
    return flat[0], flat[2]

  @classmethod
  def tree_unflatten(cls, keys: tuple, values) -> FrozenDict:
    # the children are fresh (JAX rebuilt the nested dicts): stored as they come
    d = dict(zip(keys, values))
    return _wrap(d) if cls is FrozenDict else cls(d, __unsafe_skip_copy__=True)


def _wrap(d: dict) -> FrozenDict:
  """Wraps a dict nothing else writes to, without copying (unflattening, nested reads)."""
  fd = _new(FrozenDict)
  fd._dict = d
  fd._hash = None
  fd._flat = None
  fd._views = None
  return fd


_new = object.__new__


jax.tree_util.register_pytree_with_keys(
  FrozenDict,
  FrozenDict.tree_flatten_with_keys,
  FrozenDict.tree_unflatten,
  FrozenDict.tree_flatten,
)


# which values print as nested ``{...}`` levels: inside a FrozenDict its nested levels
# (FrozenDicts or dicts); inside a plain dict only dicts (a FrozenDict value keeps its repr)
_FROZEN_LEVELS = (dict, FrozenDict)
_DICT_LEVELS = (dict,)


def _pretty(x: Any, num_spaces: int, levels: tuple[type[Mapping], ...]) -> str:
  if not isinstance(x, levels):
    return repr(x)
  if not x:
    return '{}'
  entries = ''.join(f'{k}: {_pretty(v, num_spaces, levels)},\n' for k, v in x.items())
  pad = ' ' * num_spaces
  # every line of the entries is indented, blank ones included (the last split is empty)
  indented = ''.join(pad + line + '\n' for line in entries.split('\n')[:-1])
  return '{\n' + indented + '}'


@set_module('flaxen.core.frozen_dict')
def freeze(xs: Mapping[Any, Any]) -> FrozenDict[Any, Any]:
  """Freezes a nested dict into a FrozenDict (a FrozenDict is returned as is)."""
  if isinstance(xs, FrozenDict):
    return xs
  return FrozenDict(xs)


def _thaw(frozen: FrozenDict) -> dict:
  """A FrozenDict as the reference unfreezes it: a ``tree_map`` copy of its stored dicts."""
  return _rebuild(frozen._dict)


@set_module('flaxen.core.frozen_dict')
def unfreeze(x: Any) -> Any:
  """Turns a (nested) FrozenDict or dict into nested plain dicts.

  A FrozenDict is copied as ``jax.tree_util.tree_map`` copies its nested
  dicts: every level comes out with sorted keys, containers (lists, tuples,
  dicts) are rebuilt, leaves are shared. A plain dict is copied level by level
  in its own order, each FrozenDict inside it unfrozen as above. Anything else
  is returned unchanged.

  Example:
    >>> unfreeze(FrozenDict({'b': 1, 'a': {'d': 2, 'c': 3}}))
    {'a': {'c': 3, 'd': 2}, 'b': 1}
    >>> unfreeze({'b': 1, 'a': {'d': 2, 'c': 3}})
    {'b': 1, 'a': {'d': 2, 'c': 3}}
  """
  if isinstance(x, FrozenDict):
    return _thaw(x)
  if isinstance(x, dict):
    return {k: unfreeze(v) for k, v in x.items()}
  return x


@set_module('flaxen.core.frozen_dict')
def copy(x: Any, add_or_replace: Mapping[Any, Any] = _EMPTY) -> Any:
  """Returns a copy of ``x`` with ``add_or_replace`` merged in (FrozenDict or dict).

  A plain dict is copied as ``jax.tree_util.tree_map`` copies it (keys sorted,
  containers rebuilt, FrozenDicts inside kept), then updated, as in the
  reference.

  Example:
    >>> copy({'b': 1, 'a': 2}, {'c': 3})
    {'a': 2, 'b': 1, 'c': 3}

  Raises:
    TypeError: ``x`` is neither a FrozenDict nor a dict.
  """
  if isinstance(x, FrozenDict):
    return x.copy(add_or_replace)
  if isinstance(x, dict):
    fresh = _rebuild(x)
    fresh.update(add_or_replace)
    return fresh
  raise TypeError(f'Expected FrozenDict or dict, got {type(x)}')


@set_module('flaxen.core.frozen_dict')
def pop(x: Any, key: Any) -> tuple[Any, Any]:
  """Returns ``(x without key, x[key])`` without mutating ``x`` (FrozenDict or dict).

  Raises:
    TypeError: ``x`` is neither a FrozenDict nor a dict.
    KeyError: ``key`` is absent.
  """
  if isinstance(x, FrozenDict):
    return x.pop(key)
  if isinstance(x, dict):
    fresh = _rebuild(x)  # as ``copy``: a tree_map copy, keys sorted
    value = fresh.pop(key)
    return fresh, value
  raise TypeError(f'Expected FrozenDict or dict, got {type(x)}')


@set_module('flaxen.core.frozen_dict')
def pretty_repr(x: Any, num_spaces: int = 4) -> str:
  """Pretty-prints FrozenDicts and dicts one entry per line; ``repr(x)`` otherwise.

  As in the reference, a FrozenDict always prints with its default 4-space
  indentation here (``num_spaces`` applies to plain dicts; use
  ``FrozenDict.pretty_repr(num_spaces)`` for a FrozenDict), and FrozenDicts
  inside a plain dict print as their own ``FrozenDict({...})`` repr.

  Example:
    >>> print(pretty_repr({'a': {'b': 1}, 'c': []}, num_spaces=2))
    {
      a: {
        b: 1,
      },
      c: [],
    }
  """
  if isinstance(x, FrozenDict):
    return x.pretty_repr()
  return _pretty(x, num_spaces, _DICT_LEVELS)
