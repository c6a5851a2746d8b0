"""The one owner of a Module instance's internal state.

Nothing else in flaxen writes a Module's instance attributes or its
``ModuleState``: the other files of the Module system and the transforms go
through the small API below (``tests/linen/module/test_state.py`` fails when a
file outside this one writes module state).

Per-instance state:

* instance attributes: ``_id`` (process-unique, keeps sharing when modules are
  cloned), ``_state`` (a ``ModuleState``), ``scope`` (the bound ``Scope`` or
  ``None``), ``name``, ``parent`` (held *weakly* when it is a Module, through
  ``ParentDescriptor``, so module trees die by reference counting), the
  dataclass fields and the attributes assigned in ``setup``;
* ``ModuleState``: how far ``setup`` has run (``SetupState``), what runs now
  (``in_setup``/``in_compact_method``), ``is_initialized``, the auto-name
  counters (``{class name: next index}``), ``children`` (``{name: submodule
  or collection name}``, for the repr and summaries) and ``fields_plain`` (set
  when attaching found no Module or container in a field, so ``setup`` skips
  walking the fields a second time).

A lifted transform carries ``export()`` of the state into the transformed clone
(``setup`` marked ``TRANSFORMED``; children are not carried, so nothing created
under a JAX trace is reachable from the outer module afterwards) and
``reimport()``-s its naming state back, so auto names continue across the
transform boundary.
"""

from __future__ import annotations

import enum
import itertools
import weakref
from typing import Any

from flaxen._src.linen.module.base import ModuleBase
from flaxen._src.public import set_module

_set = object.__setattr__
_next_id = itertools.count().__next__


@set_module('flaxen.linen.module')
class SetupState(enum.IntEnum):
  """How far ``setup`` has run on a module."""

  NEW = 0
  TRANSFORMED = 1
  DONE = 2


class ModuleState:
  """Per-instance mutable state of a Module (see module docstring)."""

  __slots__ = (
    'in_compact_method',
    'in_setup',
    'setup_called',
    'is_initialized',
    'autoname_cursor',
    'children',
    'fields_plain',
  )

  def __init__(self):
    self.in_compact_method = False
    self.in_setup = False
    self.setup_called = SetupState.NEW
    self.is_initialized = False
    self.autoname_cursor: dict[str, int] = {}
    self.children: dict[str, Any] = {}
    self.fields_plain = False

  # -- per-call flags ------------------------------------------------------

  def enter_setup(self) -> bool:
    """Marks ``setup`` as running; returns whether it already was (a re-entrant call)."""
    was = self.in_setup
    self.in_setup = True
    return was

  def leave_setup(self, done: bool) -> None:
    """Marks ``setup`` as finished (``done``: it ran fully, never run it again)."""
    self.in_setup = False
    if done:
      self.setup_called = SetupState.DONE

  def enter_compact(self) -> bool:
    """Marks a compact method as running; returns whether one already was."""
    was = self.in_compact_method
    self.in_compact_method = True
    return was

  def reset(self) -> None:
    """Clears what only lives for one method call."""
    self.in_compact_method = False
    self.in_setup = False
    self.autoname_cursor = {}

  def mark_initialized(self) -> None:
    """The module is attached: from now on its attributes are frozen outside ``setup``."""
    self.is_initialized = True

  def mark_fields_plain(self) -> None:
    """No dataclass field holds a Module or a container: setup need not walk them again."""
    self.fields_plain = True

  # -- naming --------------------------------------------------------------

  def next_auto_index(self, cls_name: str) -> int:
    """The next ``i`` of ``f'{cls_name}_{i}'`` in this module (and advances the counter)."""
    cursor = self.autoname_cursor
    i = cursor.get(cls_name, 0)
    cursor[cls_name] = i + 1
    return i

  def record_child(self, name: str, what: Any) -> None:
    """Remembers that ``name`` is a submodule (``what``) or a variable of collection ``what``."""
    self.children[name] = what

  # -- transform boundary --------------------------------------------------

  def export(self) -> ModuleState:
    """A copy to carry into a lifted transform (``setup`` marked as transformed)."""
    cloned = ModuleState()
    cloned.in_compact_method = self.in_compact_method
    cloned.in_setup = self.in_setup
    cloned.setup_called = SetupState.TRANSFORMED if self.setup_called else SetupState.NEW
    cloned.is_initialized = self.is_initialized
    cloned.autoname_cursor = dict(self.autoname_cursor)
    return cloned

  def reimport(self, other: ModuleState) -> None:
    """Takes back the naming/compact state of ``other`` after a lifted transform."""
    self.in_compact_method = other.in_compact_method
    self.in_setup = other.in_setup
    self.is_initialized = other.is_initialized
    self.autoname_cursor = dict(other.autoname_cursor)


UNINITIALIZED_STATE = ModuleState()
"""Class-level default ``_state`` (used until ``install`` gives the instance its own)."""


@set_module('flaxen.linen.module')
class ParentDescriptor:
  """Data descriptor of the ``parent`` field: weakly references parent Modules."""

  def __get__(self, obj, objtype=None):
    if obj is None:
      return None
    ref = obj.__dict__.get('_parent_ref')
    return ref() if isinstance(ref, weakref.ReferenceType) else ref

  def __set__(self, obj, value):
    obj.__dict__['_parent_ref'] = weakref.ref(value) if isinstance(value, ModuleBase) else value


# -- instance attributes ------------------------------------------------------


def install(module: Any) -> ModuleState:
  """Gives a freshly constructed module its ``_id`` and its own ``ModuleState``."""
  state = ModuleState()
  d = module.__dict__
  d['_id'] = _next_id()
  d['_state'] = state
  return state


def set_parent(module: Any, parent: Any) -> None:
  """Sets ``module.parent`` (a Module is held weakly)."""
  _set(module, 'parent', parent)


def set_name(module: Any, name: str | None) -> None:
  """Sets ``module.name``."""
  _set(module, 'name', name)


def set_scope(module: Any, scope: Any) -> None:
  """Binds ``module`` to ``scope`` (or unbinds it with ``None``)."""
  module.__dict__['scope'] = scope


def set_state(module: Any, state: ModuleState) -> None:
  """Replaces ``module``'s ``ModuleState`` (a transformed clone starts from an export)."""
  module.__dict__['_state'] = state


set_attribute = object.__setattr__
"""``set_attribute(module, name, value)``: stores a plain instance attribute (a field, or a
value assigned in ``setup``). The builtin itself: it runs for every field of every module
constructed, so it adds no Python frame."""
