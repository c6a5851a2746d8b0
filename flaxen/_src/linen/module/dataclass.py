"""Turning every ``Module`` subclass into a dataclass with trailing ``parent``/``name`` fields.

``customize(cls, kw_only)`` runs once per subclass (from ``__init_subclass__``):

* a subclass may not annotate ``parent``, nor ``name`` with a type other than
  ``str``/``Optional[str]`` (``ReservedModuleAttributeError``);
* ``parent``/``name`` are declared last and keyword-only, after the fields
  tagged keyword-only with ``kw_only_dataclasses.field`` (here or in a base),
  which come after all other fields (``kw_only_dataclasses.build``);
* ``parent`` is then served by ``state.ParentDescriptor``, which keeps a
  *weak* reference to a parent Module (no reference cycles between parents and
  children, so module trees die by reference counting);
* fields with ``init=False`` are excluded from comparison, hashing and repr;
* ``kw_only=True`` makes this class's fields keyword-only (not inherited);
* ``__hash__`` is generated unless the class defines one, and wrapped so that
  hashing a bound module (or one with unhashable fields) raises a clear
  ``TypeError``; ``repr`` is the Module repr, not the dataclass one;
* the field names are cached on the class (``_flaxen_field_names``: init fields
  except parent/name; ``_flaxen_all_fields``: every init field) so nothing
  re-introspects the dataclass per instance.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Optional

from flaxen._src import errors
from flaxen._src.linen.module import kw_only_dataclasses
from flaxen._src.linen.module.base import UNSPECIFIED_PARENT, ModuleBase
from flaxen._src.linen.module.state import ParentDescriptor

_RESERVED = ('parent', 'name')
_NAME_TYPES = ('str', str, str | None, Optional[str], 'Optional[str]', 'str | None')  # noqa: UP045


def _check_reserved(own: dict[str, Any]) -> None:
  if 'parent' in own or ('name' in own and own['name'] not in _NAME_TYPES):
    raise errors.ReservedModuleAttributeError(dict(own))
  own.pop('name', None)


def _wrap_hash(hash_fn):
  @functools.wraps(hash_fn)
  def __hash__(self):  # noqa: N807
    if self.scope is not None:
      raise TypeError("Can't call __hash__ on modules that hold variables.")
    try:
      return hash_fn(self)
    except TypeError as exc:
      raise TypeError(
        'Failed to hash Flax Module.  The module probably contains unhashable '
        f'attributes.  Module={self}'
      ) from exc

  return __hash__


def customize(cls: type, kw_only: bool = False) -> None:
  """Applies the Module dataclass transform to ``cls`` in place."""
  if '__annotations__' not in cls.__dict__:
    cls.__annotations__ = {}
  ann = cls.__dict__['__annotations__']
  _check_reserved(ann)
  for field_name in ann:
    spec = cls.__dict__.get(field_name)
    if isinstance(spec, dataclasses.Field) and not spec.init:
      spec.compare = spec.hash = spec.repr = False
  tail = kw_only_dataclasses.tail_of(cls)
  for name, entry in _reserved_fields().items():  # parent and name come last
    tail.pop(name, None)
    tail[name] = entry
  kw_only_dataclasses.build(cls, tail, unsafe_hash='__hash__' not in cls.__dict__, repr=False,
                            kw_only=kw_only)
  _finish(cls)


def _reserved_fields() -> dict[str, tuple[Any, dataclasses.Field]]:
  return {
    'parent': (Any, kw_only_dataclasses.field(repr=False, default=UNSPECIFIED_PARENT,
                                              kw_only=True)),
    'name': (Optional[str], kw_only_dataclasses.field(default=None, kw_only=True)),  # noqa: UP045
  }


def _finish(cls: type[ModuleBase]) -> None:
  cls.__hash__ = _wrap_hash(cls.__hash__)  # type: ignore[method-assign]  # a wrapper of its own
  cls.parent = ParentDescriptor()
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
  cls.__annotations__ = {}
  kw_only_dataclasses.build(cls, _reserved_fields(), unsafe_hash=True, repr=False)
  _finish(cls)
