"""Small public helpers of the Module system: ``merge_param`` and ``share_scope``."""

from __future__ import annotations

from typing import Any

from flaxen._src import errors
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.base import ModuleBase
from flaxen._src.public import set_module


@set_module('flaxen.linen')
def merge_param(name: str, a: Any, b: Any) -> Any:
  """Returns whichever of the constructor value ``a`` and call value ``b`` is not None.

  Raises:
    ValueError: both are None, or both are given.

  Example:
    >>> from flaxen import linen as nn
    >>> nn.merge_param('deterministic', None, True)
    True
  """
  a_set = a is not None
  b_set = b is not None
  if not a_set and not b_set:
    raise ValueError(f'Parameter "{name}" must be passed to the constructor or at call time.')
  if a_set and b_set:
    raise ValueError(
      f'Parameter "{name}" was passed to the constructor and at call time. '
      'Should be passed just once.'
    )
  return a if a_set else b


def _is_ancestor(scope: Any, other: Any) -> bool:
  target = other
  while target is not None:
    if target is scope:
      return True
    target = target.parent
  return False


@set_module('flaxen.linen')
def share_scope(module: Any, other: Any, /) -> None:
  """Makes ``module`` and ``other`` use one scope: their variables live side by side.

  When ``other`` lives inside ``module`` (e.g. a submodule passed as a field and
  adopted), ``other`` moves into ``module``'s scope; otherwise ``module`` moves
  into ``other``'s (a wrapper around a sibling keeps the sibling's path).

  Typically called in ``setup`` to wrap a layer without adding a level to the
  variable tree (e.g. a LoRA adapter around a ``Dense`` passed in as a field).

  Raises:
    CallShareScopeOnUnboundModuleError: either module is unbound.
  """
  if module.scope is None or other.scope is None:
    raise errors.CallShareScopeOnUnboundModuleError()
  if _is_ancestor(module.scope, other.scope):
    target, new_scope = other, module.scope  # a true child joins its parent
  else:
    target, new_scope = module, other.scope  # the wrapper joins the wrapped module
  old_scope = target.scope
  state_lib.set_scope(target, new_scope)
  for child in target._state.children.values():  # re-home children already bound
    if isinstance(child, ModuleBase) and child.scope is not None and child.scope.parent is old_scope:
      if isinstance(child.scope.name, str):
        new_scope.reserve(child.scope.name)
      child.scope.parent = new_scope
