"""The lazy-setup state machine: the only place where attribute access may run user ``setup``.

Each Module instance owns a ``ModuleState``:

* ``setup_called``: ``NEW`` -> (``TRANSFORMED`` under a lifted transform) -> ``DONE``;
* ``in_setup`` / ``in_compact_method``: what is running now (they decide whether
  submodules and variables may be created and how submodules are named);
* ``autoname_cursor``: ``{class name: next index}`` for ``ClassName_<i>`` names,
  reset after every compact/setup call;
* ``children``: ``{name: submodule | collection name}`` (for the repr and summaries).

``try_setup(module)`` runs ``setup`` at most once, and only on a bound module
(one with a scope) that is not already inside its own setup. It first adopts the
submodules held in dataclass fields, then calls ``setup()``, then creates the
``compact_name_scope`` child modules. A *shallow* setup only adopts the fields
(used by lifted transforms before they trace the real call).
"""

from __future__ import annotations

import enum
from typing import Any

from flaxen._src.linen.module import naming


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
  )

  def __init__(self):
    self.in_compact_method = False
    self.in_setup = False
    self.setup_called = SetupState.NEW
    self.is_initialized = False
    self.autoname_cursor: dict[str, int] = {}
    self.children: dict[str, Any] = {}

  def reset(self) -> None:
    """Clears what only lives for one method call."""
    self.in_compact_method = False
    self.in_setup = False
    self.autoname_cursor = {}

  def export(self) -> ModuleState:
    """A copy to carry into a lifted transform (``setup`` marked as transformed)."""
    setup_state = SetupState.TRANSFORMED if self.setup_called else SetupState.NEW
    cloned = ModuleState()
    cloned.in_compact_method = self.in_compact_method
    cloned.in_setup = self.in_setup
    cloned.setup_called = setup_state
    cloned.is_initialized = self.is_initialized
    cloned.autoname_cursor = dict(self.autoname_cursor)
    cloned.children = self.children
    return cloned

  def reimport(self, other: ModuleState) -> None:
    """Takes back the naming/compact state of ``other`` after a lifted transform."""
    self.in_compact_method = other.in_compact_method
    self.in_setup = other.in_setup
    self.is_initialized = other.is_initialized
    self.autoname_cursor = dict(other.autoname_cursor)


UNINITIALIZED_STATE = ModuleState()
"""Class-level default ``_state`` (used until ``__post_init__`` installs a fresh one)."""


def try_setup(module: Any, shallow: bool = False) -> None:
  """Runs ``setup`` of a bound ``module`` once (see module docstring)."""
  state = module._state
  if state.setup_called is SetupState.DONE or state.in_setup or module.scope is None:
    return
  try:
    state.in_setup = True
    naming.register_field_submodules(module)
    if not shallow:
      module.setup()
      names = type(module)._compact_name_scope_methods
      if names:
        from flaxen._src.linen.module.name_scope import make_name_scope_modules

        object.__setattr__(module, '_compact_name_scope_modules', make_name_scope_modules(module, names))
  finally:
    state.in_setup = False
    if not shallow:
      state.setup_called = SetupState.DONE
