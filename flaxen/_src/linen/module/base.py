"""``ModuleBase``: the root of the Module hierarchy, importable without the ``Module`` class.

Helpers of the Module system (naming, setup, interception) test
``isinstance(x, ModuleBase)`` so they need not import ``module.py``, and the
sentinel ``UNSPECIFIED_PARENT`` marks "no parent given: take it from the module
stack" in the ``parent`` field.
"""

from __future__ import annotations


class ModuleBase:
  """Marker base class of ``flaxen.linen.Module``."""

  __slots__ = ()


class _UnspecifiedParent:
  """Default of the ``parent`` field: resolved from the module stack in ``__post_init__``."""

  __slots__ = ()

  def __repr__(self) -> str:
    return '_unspecified_parent'

  def __reduce__(self):
    return 'UNSPECIFIED_PARENT'


UNSPECIFIED_PARENT = _UnspecifiedParent()
