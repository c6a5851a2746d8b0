"""State dicts: the registry that turns objects into nested ``{str: leaf}`` dicts and back.

A *state dict* is a tree of plain ``dict`` s with ``str`` keys whose leaves are
arrays, scalars, strings, bytes or ``None``. ``to_state_dict`` converts a target
with the handler registered for its type; ``from_state_dict`` rebuilds an object
shaped like ``target`` from such a dict, using only the target's structure (its
leaf values are ignored). A handler may also turn an object into a single leaf
(an array, a number): its state is then that leaf.

Built-in handlers:
  * ``dict``: keys become ``str(key)`` (two keys with the same string form raise
    ``ValueError``); restoring keeps the target's keys and order, and ignores
    extra keys in the state.
  * ``list`` / ``tuple``: dicts keyed ``'0'``, ``'1'``, ...; lengths must match.
  * namedtuples (any ``tuple`` subclass with ``_fields``, e.g. optax states,
    ``EmptyState()`` gives ``{}``): keyed by field name; field sets must match.
    The legacy form ``{'name': ..., 'fields': {...}, 'values': {...}}`` written
    by old versions of the reference is restored too.
  * ``FrozenDict``: like ``dict``, restored as a ``FrozenDict``.
  * ``jax.tree_util.Partial``: ``{'args': ..., 'keywords': ...}``; the function
    itself is not state and comes from the target.
  * ``flaxen.struct`` dataclasses (classes carrying ``__flaxen_struct__``): only
    their pytree fields (``__flaxen_data_fields__``: init fields whose metadata
    has ``pytree_node`` true, the default); restored with ``.replace``. Field
    sets must match.
Objects of any other type are leaves and are returned unchanged.

Dispatch is by exact type, resolved once per class and cached (explicit
registrations win over the namedtuple / struct families). Mismatches raise a
``StateMismatchError`` whose message starts with the reference library's text
for the case and adds the full path of the offending entry, built from the
``name`` arguments of the nested ``from_state_dict`` calls (root ``'.'``, so
``./params/Dense_0/kernel``); ``current_path()`` exposes it to custom handlers.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax

from flaxen._src.errors.serialization import (
  InvalidStateDictError,
  StateMismatchAttributeError,
  StateMismatchError,
  StateMismatchKeyError,
  StateMismatchTypeError,
)
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

ToFn = Callable[[Any], Any]
FromFn = Callable[[Any, Any], Any]
# (to_state_dict, from_state_dict, check_output): check_output is False for the
# built-in handlers, which produce well-formed state dicts by construction.
Handlers = tuple[ToFn, FromFn, bool]

# explicit registrations: type -> handlers
_REGISTRY: dict[type, Handlers] = {}
# resolved handlers per class (None for leaves); cleared on every registration. A plain
# dict (classes are long-lived; a weak dict would cost a weakref per lookup)
_DISPATCH: dict[type, Handlers | None] = {}
_PATH: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
  'flaxen_state_dict_path', default=()
)
_FIX = 'restore into a target with the structure that was saved, or pass target=None to see it'


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
    ty_to_state_dict: ``fn(obj) -> state``: a dict with ``str`` keys (call
      ``to_state_dict`` on children) or a single leaf.
    ty_from_state_dict: ``fn(target, state) -> new_obj``; call
      ``from_state_dict(child, state[key], name=key)`` on children.
    override: replace an existing handler instead of raising.

  Raises:
    ValueError: ``ty`` already has a handler (struct dataclasses have one
      implicitly) and ``override`` is false.
  """
  if not override and is_serializable(ty):
    raise ValueError(f'a serialization handler for "{ty.__name__}" is already registered')
  _REGISTRY[ty] = (ty_to_state_dict, ty_from_state_dict, True)
  _DISPATCH.clear()


@set_module('flaxen.serialization')
def is_serializable(target: Any) -> bool:
  """Whether ``target`` (an object or a type) has a registered state-dict handler.

  Built-in containers, ``FrozenDict``, ``jax.tree_util.Partial``, struct
  dataclasses and explicitly registered types count; namedtuples are handled
  as a family and, as in the reference, do not count individually.

  Example:
    >>> from flaxen import serialization
    >>> serialization.is_serializable({}), serialization.is_serializable(3)
    (True, False)
  """
  ty = target if isinstance(target, type) else type(target)
  return ty in _REGISTRY or _is_struct_class(ty)


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


# a sentinel, typed Any so that a lookup with it as default keeps the registry's value type
_UNKNOWN: Any = object()


def _handlers(ty: type) -> Handlers | None:
  handlers = _DISPATCH.get(ty, _UNKNOWN)
  if handlers is _UNKNOWN:
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
  if handlers[2] and type(state) is dict:
    bad = next((k for k in state if not isinstance(k, str)), None)
    if bad is not None:
      raise InvalidStateDictError(
        f'A state dict must only have string keys. (the to_state_dict handler registered '
        f'for {type(target).__name__} returned the key {bad!r}; return str(key) instead)'
      )
  return state


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
    StateMismatchError: ``state`` does not match the structure of ``target``
      (a ``ValueError``; ``KeyError``, ``TypeError`` or ``AttributeError``
      flavoured where the reference raises those); the message names the path
      of the offending entry, e.g. ``./params/Dense_0/kernel``.
  """
  handlers = _handlers(type(target))
  if handlers is None:
    return state
  token = _PATH.set((*_PATH.get(), name))
  try:
    return handlers[1](target, state)
  finally:
    _PATH.reset(token)


# --- checks shared by the handlers ---------------------------------------------------


def _set_text(names) -> str:
  """How a Python set of names prints (sorted, so messages are reproducible)."""
  return '{' + ', '.join(repr(n) for n in sorted(names, key=str)) + '}'


def _needs_mapping(state: Any, what: str, method: str = 'keys') -> Mapping:
  """``state`` if it is a mapping; otherwise the reference's ``AttributeError``, explained."""
  if isinstance(state, Mapping):
    return state
  raise StateMismatchAttributeError(
    f"'{type(state).__name__}' object has no attribute '{method}'",
    f'the {what} at path {current_path()} was saved as a leaf of type '
    f'{type(state).__name__}, not as a state dict; {_FIX}',
  )


def _paths(keys) -> str:
  return ', '.join(_child_path(str(k)) for k in keys)


# --- dict / FrozenDict ---------------------------------------------------------------


def _dict_to_state(xs: Mapping) -> dict:
  state = {str(key): to_state_dict(value) for key, value in xs.items()}
  if len(state) != len(xs):
    raise ValueError(
      f'Dict keys do not have a unique string representation: {_set_text(state)} vs given: '
      f'{xs} (state dict keys are str(key), so keys like 1 and "1" collide)'
    )
  return state


def _restore_entries(xs: Mapping, states: Any) -> dict:
  states = _needs_mapping(states, 'dict')
  restored = {}
  dispatch = _DISPATCH
  try:
    for key, value in xs.items():
      if dispatch.get(type(value), _UNKNOWN) is None:  # a known leaf type: nothing to rebuild
        restored[key] = states[key if type(key) is str else str(key)]
      else:
        name = key if type(key) is str else str(key)
        restored[key] = from_state_dict(value, states[name], name=name)
  except KeyError:
    absent = [str(k) for k in xs if str(k) not in states]
    if not absent:
      raise  # a KeyError from deeper down: not a missing key of this dict
    raise StateMismatchError(
      'The target dict keys and state dict keys do not match, target dict contains keys '
      f'{_set_text(absent)} which are not present in state dict at path {current_path()}',
      f'missing: {_paths(absent)}; {_FIX}',
    ) from None
  return restored


def _restore_frozen_dict(xs: FrozenDict, states: Any) -> FrozenDict:
  return FrozenDict(_restore_entries(xs, states))


# --- list / tuple --------------------------------------------------------------------


def _seq_to_state(xs) -> dict:
  return {str(i): to_state_dict(x) for i, x in enumerate(xs)}


def _restore_seq(xs, state: Any) -> list:
  try:
    size = len(state)
  except TypeError:
    raise StateMismatchTypeError(
      f"object of type '{type(state).__name__}' has no len()",
      f'the {type(xs).__name__} at path {current_path()} was saved as a leaf of type '
      f'{type(state).__name__}; {_FIX}',
    ) from None
  if size != len(xs):
    raise StateMismatchError(
      'The size of the list and the state dict do not match, '
      f'got {len(xs)} and {size} at path {current_path()}',
      f'the target {type(xs).__name__} has {len(xs)} entries, the saved one {size}; {_FIX}',
    )
  if not isinstance(state, Mapping):
    raise StateMismatchTypeError(
      f'{type(state).__name__} indices must be integers or slices, not str',
      f'the {type(xs).__name__} at path {current_path()} was saved as a '
      f'{type(state).__name__}, not as a state dict keyed "0", "1", ...; {_FIX}',
    )
  restored = []
  for i, x in enumerate(xs):
    key = str(i)
    if key not in state:
      raise StateMismatchKeyError(
        repr(key),
        f'the state dict of the {type(xs).__name__} at path {current_path()} has no entry '
        f'{_child_path(key)} (its keys: {_set_text(state)}); {_FIX}',
      )
    restored.append(from_state_dict(x, state[key], name=key))
  return restored


def _restore_tuple(xs: tuple, state: Any) -> tuple:
  return tuple(_restore_seq(xs, state))


# --- namedtuples -----------------------------------------------------------------------

_LEGACY_NAMEDTUPLE = frozenset(('name', 'fields', 'values'))


def _namedtuple_to_state(nt) -> dict:
  return {f: to_state_dict(getattr(nt, f)) for f in nt._fields}


def _upgrade_legacy(state: Mapping) -> Mapping:
  """Old files store a namedtuple as ``{'name', 'fields': {i: field}, 'values': {i: value}}``."""
  fields, values = state['fields'], state['values']
  if not isinstance(fields, Mapping) or not isinstance(values, Mapping):
    return state
  try:
    return {fields[str(i)]: values[str(i)] for i in range(len(fields))}
  except (KeyError, TypeError):
    return state


def _restore_namedtuple(nt, state: Any):
  state = _needs_mapping(state, f'named tuple {type(nt).__name__}')
  if state.keys() == _LEGACY_NAMEDTUPLE:
    state = _upgrade_legacy(state)
  saved, wanted = set(state), set(nt._fields)
  if saved != wanted:
    raise StateMismatchError(
      'The field names of the state dict and the named tuple do not match, got '
      f'{_set_text(saved)} and {_set_text(wanted)} at path {current_path()}',
      _field_detail(f'named tuple {type(nt).__name__}', wanted - saved, saved - wanted),
    )
  return type(nt)(**{f: from_state_dict(getattr(nt, f), state[f], name=f) for f in nt._fields})


def _field_detail(kind: str, missing, unknown) -> str:
  parts = []
  if missing:
    parts.append(f'missing field(s) {_paths(sorted(missing))}')
  if unknown:
    parts.append(f'unknown field(s) {_paths(sorted(unknown, key=str))}')
  return f'{kind}: ' + '; '.join(parts) + f'; {_FIX}'


_NAMEDTUPLE = (_namedtuple_to_state, _restore_namedtuple, False)


# --- struct dataclasses ----------------------------------------------------------------


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
    state = _needs_mapping(state, kind, method='copy')
    absent = [n for n in names if n not in state]
    if absent:
      raise StateMismatchError(
        f'Missing field {absent[0]} in state dict while restoring an instance of '
        f'{cls.__name__}, at path {current_path()}',
        _field_detail(kind, absent, ()),
      )
    unknown = [k for k in state if k not in names]
    if unknown:
      raise StateMismatchError(
        f'Unknown field(s) "{",".join(map(str, unknown))}" in state dict while restoring an '
        f'instance of {cls.__name__} at path {current_path()}',
        _field_detail(kind, (), unknown),
      )
    updates = {n: from_state_dict(getattr(x, n), state[n], name=n) for n in names}
    replace = getattr(x, 'replace', None)
    return replace(**updates) if callable(replace) else dataclasses.replace(x, **updates)

  return to_state, from_state, False


# --- jax.tree_util.Partial ---------------------------------------------------------------


def _partial_to_state(p) -> dict:
  return {'args': to_state_dict(p.args), 'keywords': to_state_dict(p.keywords)}


def _restore_partial(p, state: Any):
  parts = []
  for key in ('args', 'keywords'):
    try:
      parts.append(state[key])
    except (KeyError, TypeError, IndexError) as e:
      cls = StateMismatchKeyError if isinstance(e, KeyError) else StateMismatchTypeError
      raise cls(
        str(e) if not isinstance(e, KeyError) else repr(key),
        f'the jax.tree_util.Partial at path {current_path()} needs a state dict with the '
        f'entries "args" and "keywords"; {_FIX}',
      ) from None
  args = from_state_dict(p.args, parts[0])
  keywords = from_state_dict(p.keywords, parts[1])
  return jax.tree_util.Partial(p.func, *args, **keywords)


_REGISTRY.update({
  dict: (_dict_to_state, _restore_entries, False),
  list: (_seq_to_state, _restore_seq, False),
  tuple: (_seq_to_state, _restore_tuple, False),
  FrozenDict: (_dict_to_state, _restore_frozen_dict, False),
  jax.tree_util.Partial: (_partial_to_state, _restore_partial, False),
})
