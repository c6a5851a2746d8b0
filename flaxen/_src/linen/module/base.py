"""``ModuleBase``: the root of the Module hierarchy, importable without the ``Module`` class.

Helpers of the Module system (naming, setup, interception) test
``isinstance(x, ModuleBase)`` so they need not import ``module.py``, and the
sentinel ``UNSPECIFIED_PARENT`` marks "no parent given: take it from the module
stack" in the ``parent`` field.

``ModuleBase`` is marked with ``typing.dataclass_transform``: type checkers
treat every Module subclass as a dataclass (``nn.Dense(3)`` type-checks), with
``dataclasses.field``, ``kw_only_dataclasses.field`` and ``module_field`` as
field specifiers. At runtime the transform itself is done by ``dataclass.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import dataclass_transform

from flaxen._src.linen.module import kw_only_dataclasses
from flaxen._src.public import set_module


@set_module('flaxen.linen.module')
def module_field(*, kw_only: bool = False, default: Any = dataclasses.MISSING) -> Any:
  """A Module field specifier: ``dataclasses.field`` with ``kw_only`` and ``default``."""
  if kw_only:
    return kw_only_dataclasses.field(kw_only=True, default=default)
  return dataclasses.field(default=default)


@set_module('flaxen.linen.module')
@dataclass_transform(
  field_specifiers=(dataclasses.field, kw_only_dataclasses.field, module_field)
)
class ModuleBase:
  """Marker base class of ``flaxen.linen.Module`` (and what type checkers see as a dataclass)."""

  __slots__ = ()

  if TYPE_CHECKING:  # what every module has, declared for type checkers (no field of this class)
    scope: Any
    _state: Any
    _id: int  # process-unique, given by state.install
    parent: Any  # the dataclass field that ``dataclass.py`` appends to each subclass
    clone: Callable[..., Any]  # defined by Module
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    # names of the dataclass fields, set on each subclass by ``dataclass.py``: all of them,
    # those without ``parent``/``name``, and those without them that ``repr`` shows
    _flaxen_all_fields: ClassVar[tuple[str, ...]]
    _flaxen_field_names: ClassVar[tuple[str, ...]]
    _flaxen_repr_fields: ClassVar[tuple[str, ...]]


class _UnspecifiedParent:
  """Default of the ``parent`` field: resolved from the module stack in ``__post_init__``."""

  __slots__ = ()

  def __repr__(self) -> str:
    return '_unspecified_parent'

  def __reduce__(self):
    return 'UNSPECIFIED_PARENT'


UNSPECIFIED_PARENT = _UnspecifiedParent()


def missing_attribute_error(module: Any, name: str) -> AttributeError:
  """The reference's ``AttributeError`` for an attribute a module lacks.

  Unbound modules get the reminder that ``setup`` attributes only exist inside
  ``init``/``apply``.
  """
  msg = f'"{type(module).__name__}" object has no attribute "{name}".'
  if getattr(module, 'scope', None) is None:
    msg += (
      f' If "{name}" is defined in \'.setup()\', remember these fields are only '
      "accessible from inside 'init' or 'apply'."
    )
  return AttributeError(msg)
