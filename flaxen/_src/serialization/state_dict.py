"""State dicts: the registry that turns objects into nested ``{str: leaf}`` dicts and back.

A *state dict* is a tree of plain ``dict`` s with ``str`` keys whose leaves are
arrays, scalars, strings, bytes or ``None``. ``to_state_dict`` converts a target
with the handler registered for its type; ``from_state_dict`` rebuilds an object
shaped like ``target`` from such a dict, using only the target's structure (its
leaf values are ignored).

Built-in handlers:
  * ``dict``: keys become ``str(key)`` (two keys with the same string form raise
    ``ValueError``); restoring keeps the target's keys and order, and ignores
    extra keys in the state.
  * ``list`` / ``tuple``: dicts keyed ``'0'``, ``'1'``, ...; lengths must match.
  * namedtuples (any ``tuple`` subclass with ``_fields``, e.g. optax states,
    ``EmptyState()`` gives ``{}``): keyed by field name; field sets must match.
  * ``FrozenDict``: like ``dict``, restored as a ``FrozenDict``.
  * ``flaxen.struct`` dataclasses (classes carrying ``__flaxen_struct__``): only
    their pytree fields (``__flaxen_data_fields__``: init fields whose metadata
    has ``pytree_node`` true, the default); restored with ``.replace``. Field
    sets must match.
Objects of any other type are leaves and are returned unchanged.

Dispatch is by exact type, resolved once per class and cached (explicit
registrations win over the namedtuple / struct families). Mismatches raise
``ValueError`` naming the full path of the offending entry, built from the
``name`` arguments of the nested ``from_state_dict`` calls (root ``'.'``, so
``./params/Dense_0/kernel``); ``current_path()`` exposes it to custom handlers.
"""

from __future__ import annotations

import contextvars
import dataclasses
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

ToFn = Callable[[Any], dict]
FromFn = Callable[[Any, Any], Any]
# (to_state_dict, from_state_dict, check_output): check_output is False for the
# built-in handlers, which produce well-formed state dicts by construction.
Handlers = tuple[ToFn, FromFn, bool]

# explicit registrations: type -> handlers
_REGISTRY: dict[type, Handlers] = {}
# resolved handlers per class (None for leaves); cleared on every registration
_DISPATCH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PATH: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
  'flaxen_state_dict_path', default=()
)


@set_module('flaxen.serialization')
def current_path() -> str:
  """Path of the entry ``from_state_dict`` is restoring, for error messages.

  The path joins the ``name`` of every nested ``from_state_dict`` call with
  ``'/'``; the root is ``'.'``. Outside a restore it is ``''``.

  Returns:
    For example ``'./params/Dense_0'`` inside the handler of that dict.
  """
  return '/'.join(_PATH.get())


def _child_path(key: str) -> str:
  return '/'.join((*_PATH.get(), key))


@set_module('flaxen.serialization')
def register_serialization_state(
  ty: type, ty_to_state_dict: ToFn, ty_from_state_dict: FromFn, override: bool = False
) -> None:
  """Registers how objects of type ``ty`` become state dicts and are restored.

  Args:
    ty: the exact type to handle (subclasses need their own registration).
    ty_to_state_dict: ``fn(obj) -> dict`` with ``str`` keys; call
      ``to_state_dict`` on children.
    ty_from_state_dict: ``fn(target, state) -> new_obj``; call
      ``from_state_dict(child, state[key], name=key)`` on children.
    override: replace an existing handler instead of raising.

  Raises:
    ValueError: ``ty`` already has a handler (struct dataclasses have one
      implicitly) and ``override`` is false.
  """
  if not override and (ty in _REGISTRY or _is_struct_class(ty)):
    raise ValueError(f'a serialization handler for "{ty.__name__}" is already registered')
  _REGISTRY[ty] = (ty_to_state_dict, ty_from_state_dict, True)
  _DISPATCH.clear()


def _is_struct_class(ty: type) -> bool:
  # set by flaxen.struct.dataclass on each struct class itself (not inherited)
  return bool(ty.__dict__.get('__flaxen_struct__', False)) and dataclasses.is_dataclass(ty)


def _resolve(ty: type) -> Handlers | None:
  handlers = _REGISTRY.get(ty)
  if handlers is not None:
    return handlers
  if _is_struct_class(ty):
    return _struct_handlers(ty)
  if issubclass(ty, tuple) and hasattr(ty, '_fields'):
    return _NAMEDTUPLE
  return None


def _handlers(ty: type) -> Handlers | None:
  try:
    return _DISPATCH[ty]
  except KeyError:
    pass
  except TypeError:  # a type that cannot be weakly referenced: resolve every time
    return _resolve(ty)
  handlers = _DISPATCH[ty] = _resolve(ty)
  return handlers


@set_module('flaxen.serialization')
def to_state_dict(target: Any) -> Any:
  """Returns the state dict of ``target`` (``target`` itself for leaves).

  Example:
    >>> from flaxen import serialization
    >>> serialization.to_state_dict({'a': [1, 2], 3: None})
    {'a': {'0': 1, '1': 2}, '3': None}
  """
  handlers = _handlers(type(target))
  if handlers is None:
    return target
  state = handlers[0](target)
  if handlers[2]:
    _check_state(type(target), state)
  return state


def _check_state(ty: type, state: Any) -> None:
  if not isinstance(state, dict):
    raise TypeError(
      f'the to_state_dict handler of {ty.__name__} returned {type(state).__name__}; '
      'a state dict must be a dict'
    )
  for key in state:
    if not isinstance(key, str):
      raise TypeError(
        f'the to_state_dict handler of {ty.__name__} returned the key {key!r}; '
        'a state dict must only have str keys'
      )


@set_module('flaxen.serialization')
def from_state_dict(target: Any, state: Any, name: str = '.') -> Any:
  """Returns a copy of ``target`` whose state is taken from ``state``.

  Only the structure of ``target`` is used, not its leaf values. For a leaf
  target (a type without handler) the ``state`` value is returned as is.

  Args:
    target: an object of the structure that was saved.
    state: a state dict as produced by ``to_state_dict``.
    name: the name of this entry in error messages (the root is ``'.'``).

  Raises:
    ValueError: ``state`` does not match the structure of ``target``; the
      message names the path of the offending entry, e.g.
      ``./params/Dense_0/kernel``.
  """
  handlers = _handlers(type(target))
  if handlers is None:
    return state
  token = _PATH.set((*_PATH.get(), name))
  try:
    return handlers[1](target, state)
  finally:
    _PATH.reset(token)


def _expect_mapping(state: Any, what: str) -> Mapping:
  if type(state) is dict or isinstance(state, Mapping):
    return state
  raise ValueError(
    f'expected a state dict for the {what} at path {current_path()}, got {type(state).__name__}'
  )


def _missing(keys) -> str:
  return ', '.join(_child_path(k) for k in keys)


# --- dict / FrozenDict ---------------------------------------------------------


def _dict_to_state(xs: Mapping) -> dict:
  state = {str(key): to_state_dict(value) for key, value in xs.items()}
  if len(state) != len(xs):
    raise ValueError(
      'Dict keys do not have a unique string representation: '
      f'{sorted(map(repr, xs.keys()))} (state dict keys are str(key))'
    )
  return state


def _restore_entries(xs: Mapping, state: Any) -> dict:
  state = _expect_mapping(state, 'dict')
  missing = [str(k) for k in xs.keys() if str(k) not in state]
  if missing:
    raise ValueError(
      'The target dict keys and state dict keys do not match: the state dict has no entry '
      f'for {_missing(missing)}'
    )
  return {key: from_state_dict(value, state[str(key)], name=str(key)) for key, value in xs.items()}


def _restore_frozen_dict(xs: FrozenDict, state: Any) -> FrozenDict:
  return FrozenDict(_restore_entries(xs, state))


# --- list / tuple --------------------------------------------------------------


def _seq_to_state(xs) -> dict:
  return {str(i): to_state_dict(x) for i, x in enumerate(xs)}


def _restore_seq(xs, state: Any) -> list:
  state = _expect_mapping(state, type(xs).__name__)
  if len(state) != len(xs):
    raise ValueError(
      f'The size of the {type(xs).__name__} and the state dict do not match, got {len(xs)} and '
      f'{len(state)} at path {current_path()}'
    )
  missing = [str(i) for i in range(len(xs)) if str(i) not in state]
  if missing:
    raise ValueError(f'The state dict has no entry for {_missing(missing)}')
  return [from_state_dict(x, state[str(i)], name=str(i)) for i, x in enumerate(xs)]


def _restore_tuple(xs: tuple, state: Any) -> tuple:
  return tuple(_restore_seq(xs, state))


# --- fields of namedtuples and struct dataclasses -------------------------------


def _check_fields(kind: str, fields: tuple[str, ...], state: Mapping) -> None:
  missing = [f for f in fields if f not in state]
  extra = [k for k in state if k not in fields]
  if missing or extra:
    parts = []
    if missing:
      parts.append(f'missing field(s) {_missing(missing)}')
    if extra:
      parts.append(f'unknown field(s) {_missing(map(str, extra))}')
    raise ValueError(
      f'The field names of the state dict and the {kind} do not match: ' + '; '.join(parts)
    )


def _namedtuple_to_state(nt) -> dict:
  return {f: to_state_dict(getattr(nt, f)) for f in nt._fields}


def _restore_namedtuple(nt, state: Any):
  kind = f'named tuple {type(nt).__name__}'
  state = _expect_mapping(state, kind)
  _check_fields(kind, nt._fields, state)
  return type(nt)(**{f: from_state_dict(getattr(nt, f), state[f], name=f) for f in nt._fields})


_NAMEDTUPLE = (_namedtuple_to_state, _restore_namedtuple, False)


def _struct_handlers(cls: type) -> Handlers:
  """Handlers for one struct dataclass, with its pytree fields computed once."""
  names = cls.__dict__.get('__flaxen_data_fields__')
  if names is None:
    names = tuple(
      f.name for f in dataclasses.fields(cls) if f.init and f.metadata.get('pytree_node', True)
    )
  kind = f'dataclass {cls.__name__}'

  def to_state(x) -> dict:
    return {n: to_state_dict(getattr(x, n)) for n in names}

  def from_state(x, state):
    state = _expect_mapping(state, kind)
    _check_fields(kind, names, state)
    updates = {n: from_state_dict(getattr(x, n), state[n], name=n) for n in names}
    replace = getattr(x, 'replace', None)
    return replace(**updates) if callable(replace) else dataclasses.replace(x, **updates)

  return to_state, from_state, False


_REGISTRY.update({
  dict: (_dict_to_state, _restore_entries, False),
  list: (_seq_to_state, _restore_seq, False),
  tuple: (_seq_to_state, _restore_tuple, False),
  FrozenDict: (_dict_to_state, _restore_frozen_dict, False),
})
