"""Turning every ``Module`` subclass into a dataclass with trailing ``parent``/``name`` fields.

``customize(cls, kw_only)`` runs once per subclass (from ``__init_subclass__``):

* a subclass may not annotate ``parent`` or ``name`` (``ReservedModuleAttributeError``);
* the inherited ``parent``/``name`` fields are lifted out of the bases' field
  tables while ``dataclasses.dataclass`` processes the class and re-added as the
  class's own last fields, so they stay last in ``__init__`` and can keep their
  defaults after subclass fields without defaults;
* ``kw_only=True`` makes this class's fields keyword-only (not inherited);
* ``__hash__`` is generated unless the class defines one; ``repr`` is the
  Module repr, not the dataclass one;
* the field names are cached on the class (``_flaxen_field_names``: init fields
  except parent/name; ``_flaxen_all_fields``: every init field) so nothing
  re-introspects the dataclass per instance.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flaxen._src import errors
from flaxen._src.linen.module.base import UNSPECIFIED_PARENT

_RESERVED = ('parent', 'name')


def customize(cls: type, kw_only: bool = False) -> None:
  """Applies the Module dataclass transform to ``cls`` in place."""
  own = cls.__dict__.get('__annotations__', {})
  if 'parent' in own or 'name' in own:
    raise errors.ReservedModuleAttributeError(own)
  lifted: list[tuple[dict, dict[str, Any]]] = []
  seen: set[int] = set()
  for base in cls.__mro__[1:]:
    table = getattr(base, '__dataclass_fields__', None)
    if table is None or id(table) in seen:
      continue
    seen.add(id(table))
    taken = {k: table.pop(k) for k in _RESERVED if k in table}
    if taken:
      lifted.append((table, taken))
  try:
    if '__annotations__' not in cls.__dict__:
      cls.__annotations__ = {}
    ann = cls.__dict__['__annotations__']
    ann['parent'] = Any
    ann['name'] = str | None
    cls.parent = dataclasses.field(repr=False, default=UNSPECIFIED_PARENT)
    cls.name = dataclasses.field(default=None)
    dataclasses.dataclass(  # type: ignore[call-overload]
      cls, unsafe_hash='__hash__' not in cls.__dict__, repr=False, kw_only=kw_only
    )
  finally:
    for table, taken in lifted:
      table.update(taken)
  cache_fields(cls)


def cache_fields(cls: type) -> None:
  """Stores the field-name tuples used on hot paths on ``cls``."""
  fields = dataclasses.fields(cls)
  cls._flaxen_all_fields = tuple(f.name for f in fields if f.init)
  cls._flaxen_field_names = tuple(
    f.name for f in fields if f.init and f.name not in _RESERVED
  )
  cls._flaxen_repr_fields = tuple(
    f.name for f in fields if f.name not in _RESERVED and f.repr
  )


def make_base(cls: type) -> None:
  """Makes the base ``Module`` itself a dataclass with just ``parent`` and ``name``."""
  cls.__annotations__ = {'parent': Any, 'name': str | None}
  cls.parent = dataclasses.field(repr=False, default=UNSPECIFIED_PARENT)
  cls.name = dataclasses.field(default=None)
  dataclasses.dataclass(cls, unsafe_hash=True, repr=False)  # type: ignore[call-overload]
  cache_fields(cls)
