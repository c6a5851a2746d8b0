"""FrozenDict: an immutable, hashable mapping that is a JAX pytree.

Invariants:
  * construction deep-freezes: every nested ``dict`` becomes a ``FrozenDict``;
    nested FrozenDicts are shared, never copied (they are immutable);
  * item assignment raises ``ValueError('FrozenDict is immutable.')``;
  * as a pytree, children are flattened in SORTED key order (keys are
    ``jax.tree_util.DictKey``), while iteration and printing keep insertion
    order; so the output of ``tree_map`` prints sorted;
  * the flattened form is computed once per instance and cached, which keeps
    the per-call overhead of ``jit`` on large variable trees low;
  * ``repr`` is ``pretty_repr()``: ``FrozenDict({`` then one ``key: value,`` per
    line with unquoted keys and 4-space indentation, then ``})``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import jax

from flaxen._src.public import set_module

K = TypeVar('K', bound=Hashable)
V = TypeVar('V')

_EMPTY = MappingProxyType({})


def _freeze_value(v: Any) -> Any:
  if isinstance(v, dict):
    return FrozenDict(v)
  return v


def _sorted_keys(d: dict) -> tuple:
  try:
    return tuple(sorted(d))
  except TypeError:  # keys of mixed, unorderable types: still deterministic
    return tuple(sorted(d, key=lambda k: (type(k).__name__, repr(k))))


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

  __slots__ = ('_dict', '_hash', '_flat')

  def __init__(self, *args, __unsafe_skip_copy__: bool = False, **kwargs):
    xs = dict(*args, **kwargs)
    if not __unsafe_skip_copy__:
      for k, v in xs.items():
        if isinstance(v, dict):
          xs[k] = FrozenDict(v)
    self._dict = xs
    self._hash = None
    self._flat = None

  # --- Mapping protocol ---

  def __getitem__(self, key):
    return self._dict[key]

  def __contains__(self, key) -> bool:
    return key in self._dict

  def __iter__(self) -> Iterator[K]:
    return iter(self._dict)

  def __len__(self) -> int:
    return len(self._dict)

  def keys(self):
    return self._dict.keys()

  def values(self):
    return self._dict.values()

  def items(self):
    return self._dict.items()

  def get(self, key, default=None):
    return self._dict.get(key, default)

  def __setitem__(self, key, value):
    raise ValueError('FrozenDict is immutable.')

  def __delitem__(self, key):
    raise ValueError('FrozenDict is immutable.')

  def __hash__(self) -> int:
    if self._hash is None:
      h = 0
      for item in self._dict.items():
        h ^= hash(item)
      self._hash = hash((len(self._dict), h))
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
    return (type(self), (self._dict,))

  def __copy__(self) -> FrozenDict[K, V]:
    return self  # immutable

  # --- functional updates ---

  def copy(self, add_or_replace: Mapping[K, V] = _EMPTY) -> FrozenDict[K, V]:
    """Returns a new FrozenDict with ``add_or_replace`` added or replaced.

    Example:
      >>> FrozenDict({'a': 1}).copy({'b': 2})
      FrozenDict({
          a: 1,
          b: 2,
      })
    """
    new = dict(self._dict)
    for k, v in add_or_replace.items():
      new[k] = _freeze_value(v)
    return _wrap(new)

  def pop(self, key: K) -> tuple[FrozenDict[K, V], V]:
    """Removes ``key``; returns ``(new FrozenDict without key, its value)``.

    Example:
      >>> state, params = FrozenDict({'params': 1, 'stats': 2}).pop('params')
      >>> params, dict(state)
      (1, {'stats': 2})

    Raises:
      KeyError: ``key`` is absent.
    """
    value = self._dict[key]
    new = dict(self._dict)
    del new[key]
    return _wrap(new), value

  def unfreeze(self) -> dict[K, V]:
    """Returns a nested plain-dict copy (leaves are shared, not copied)."""
    return {k: (v.unfreeze() if isinstance(v, FrozenDict) else v) for k, v in self._dict.items()}

  def pretty_repr(self, num_spaces: int = 4) -> str:
    """The repr with one ``key: value,`` per line and ``num_spaces`` indentation."""
    return f'FrozenDict({_pretty(self, num_spaces)})'

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
    return flat[0], flat[2]

  @classmethod
  def tree_unflatten(cls, keys: tuple, values) -> FrozenDict:
    d = dict(zip(keys, values))
    for k, v in d.items():
      if isinstance(v, dict):  # a tree_map that returned dicts: keep the result frozen
        d[k] = FrozenDict(v)
    return _wrap(d) if cls is FrozenDict else cls(d, __unsafe_skip_copy__=True)


def _wrap(d: dict) -> FrozenDict:
  """Wraps an already-frozen dict without copying (the fast path of unflattening)."""
  fd = _new(FrozenDict)
  fd._dict = d
  fd._hash = None
  fd._flat = None
  return fd


_new = object.__new__


jax.tree_util.register_pytree_with_keys(
  FrozenDict,
  FrozenDict.tree_flatten_with_keys,
  FrozenDict.tree_unflatten,
  FrozenDict.tree_flatten,
)


def _indent(text: str, num_spaces: int) -> str:
  pad = ' ' * num_spaces
  lines = text.split('\n')
  return '\n'.join(pad + line if line else line for line in lines)


def _pretty(x: Any, num_spaces: int) -> str:
  if not isinstance(x, (dict, FrozenDict)):
    return repr(x)
  if not x:
    return '{}'
  body = ''.join(f'{k}: {_pretty(v, num_spaces)},\n' for k, v in x.items())
  return '{\n' + _indent(body, num_spaces) + '}'


@set_module('flaxen.core.frozen_dict')
def freeze(xs: Mapping[Any, Any]) -> FrozenDict[Any, Any]:
  """Freezes a nested dict into a FrozenDict (a FrozenDict is returned as is)."""
  if isinstance(xs, FrozenDict):
    return xs
  return FrozenDict(xs)


@set_module('flaxen.core.frozen_dict')
def unfreeze(x: Any) -> Any:
  """Turns a (nested) FrozenDict or dict into nested plain dicts.

  Dicts are copied level by level (so the result can be mutated freely); leaves
  are shared. Anything else is returned unchanged.
  """
  if isinstance(x, FrozenDict):
    return x.unfreeze()
  if isinstance(x, dict):
    return {k: unfreeze(v) for k, v in x.items()}
  return x


@set_module('flaxen.core.frozen_dict')
def copy(x: Any, add_or_replace: Mapping[Any, Any] = _EMPTY) -> Any:
  """Returns a copy of ``x`` with ``add_or_replace`` merged in (FrozenDict or dict).

  Raises:
    TypeError: ``x`` is neither a FrozenDict nor a dict.
  """
  if isinstance(x, FrozenDict):
    return x.copy(add_or_replace)
  if isinstance(x, dict):
    new = unfreeze(x)
    new.update(add_or_replace)
    return new
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
    new = unfreeze(x)
    value = new.pop(key)
    return new, value
  raise TypeError(f'Expected FrozenDict or dict, got {type(x)}')


@set_module('flaxen.core.frozen_dict')
def pretty_repr(x: Any, num_spaces: int = 4) -> str:
  """Pretty-prints FrozenDicts and dicts one entry per line; ``repr(x)`` otherwise."""
  if isinstance(x, FrozenDict):
    return x.pretty_repr(num_spaces)
  return _pretty(x, num_spaces)
