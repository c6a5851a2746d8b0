"""The lazy-setup state machine: the only place where attribute access may run user ``setup``.

``try_setup(module)`` runs ``setup`` at most once, and only on a bound module
(one with a scope) that is not already inside its own setup. It first adopts the
submodules held in dataclass fields, then calls ``setup()``, then creates the
``compact_name_scope`` child modules. A *shallow* setup only adopts the fields
(used by lifted transforms before they trace the real call).

The ``compact_name_scope`` children are made by a factory that
``name_scope.py`` registers here when it is imported (``name_scope`` defines a
Module subclass, so importing it from here would close the cycle
``module -> setup -> name_scope -> module``). A class can only have such
methods if it used ``nn.compact_name_scope``, which imports ``name_scope``, so
the factory is always registered when it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flaxen._src.linen.module import naming
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.state import SetupState

NameScopeFactory = Callable[[Any, tuple[str, ...]], dict[str, Any]]
_name_scope_factory: NameScopeFactory | None = None


def register_name_scope_factory(factory: NameScopeFactory) -> None:
  """Installs ``factory(module, method_names) -> {name: child}`` (called by ``name_scope``)."""
  global _name_scope_factory
  _name_scope_factory = factory


def try_setup(module: Any, shallow: bool = False) -> None:
  """Runs ``setup`` of a bound ``module`` once (see module docstring)."""
  state = module._state
  if state.setup_called is SetupState.DONE or state.in_setup or module.scope is None:
    return
  state.enter_setup()
  try:
    if not state.fields_plain:
      naming.register_field_submodules(module)
    if not shallow:
      module.setup()
      names = type(module)._compact_name_scope_methods
      if names:
        children = _name_scope_factory(module, names)  # type: ignore[misc]
        state_lib.set_attribute(module, '_compact_name_scope_modules', children)
  finally:
    state.leave_setup(done=not shallow)
