"""Dataclasses whose keyword-only fields come last, inherited ones included.

``field(kw_only=True, default=...)`` tags a field with the ``KW_ONLY`` marker
(and makes it keyword-only). ``dataclass(cls)`` then declares every tagged
field -- of ``cls`` and of its dataclass bases -- *after* the other fields, so a
base may define a field with a default and a subclass a field without one::

    base:  name: str = field(default='', kw_only=True)
    child: size: float            ->  Child(size, *, name='')

``fields(Child)`` lists ``size`` before ``name``. A ``_: KW_ONLY`` annotation
tags every field declared after it (each needs a default); ``extra_fields``
(``(name, annotation, Field)`` triples) are added to the class first. The
Module system uses the same mechanism to keep ``parent`` and ``name`` last
(``build`` below).

Keyword-only fields without a default raise ``ValueError`` (as in the
reference, which moves them to the end of ``__init__``'s parameters).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, TypeVar

from flaxen._src.public import set_module

# a forward reference, as in the reference: the Module class imports this module, so this one
# cannot import it (not even for type checkers: the layering test sees those imports too)
M = TypeVar('M', bound='flaxen.linen.Module')  # type: ignore[name-defined]  # noqa: F821
FieldName = str
Annotation = Any
Default = Any

_NO_DEFAULT = 'Keyword-only fields with no default are not supported.'
_PUBLIC = 'flaxen.linen.kw_only_dataclasses'


class _KwOnlyMarker:
  """The ``KW_ONLY`` marker: a field-metadata key, and an annotation starting a kw-only block."""

  __slots__ = ()

  def __repr__(self) -> str:
    return 'KW_ONLY'

  def __reduce__(self):
    return 'KW_ONLY'


KW_ONLY = _KwOnlyMarker()


def _has_default(spec: dataclasses.Field) -> bool:
  return (spec.default is not dataclasses.MISSING
          or spec.default_factory is not dataclasses.MISSING)


def _tagged(spec: Any) -> bool:
  return isinstance(spec, dataclasses.Field) and bool(spec.metadata.get(KW_ONLY))


@set_module(_PUBLIC)
def field(*, metadata: Any = None, kw_only: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
  """``dataclasses.field`` that can tag the field keyword-only (moved last by ``dataclass``).

  Raises:
    ValueError: ``kw_only=True`` without ``default``/``default_factory``.
  """
  if kw_only is dataclasses.MISSING or not kw_only:
    return dataclasses.field(metadata=metadata, **kwargs)
  if (kwargs.get('default', dataclasses.MISSING) is dataclasses.MISSING
      and kwargs.get('default_factory', dataclasses.MISSING) is dataclasses.MISSING):
    raise ValueError(_NO_DEFAULT)
  return dataclasses.field(metadata={**(metadata or {}), KW_ONLY: True}, kw_only=True, **kwargs)


def _tag(cls: type, name: str) -> None:
  """Tags the field ``name`` declared (with a default) in ``cls`` itself."""
  value = cls.__dict__.get(name, dataclasses.MISSING)
  if isinstance(value, dataclasses.Field):
    if not _has_default(value):
      raise ValueError(_NO_DEFAULT)
    value.metadata = MappingProxyType({**value.metadata, KW_ONLY: True})
    value.kw_only = True
    return
  if value is dataclasses.MISSING:
    raise ValueError(_NO_DEFAULT)
  setattr(cls, name, field(default=value, kw_only=True))


def build(cls: type, tail: dict[str, tuple[Any, Any]], **dataclass_kwargs: Any) -> type:
  """Runs ``dataclasses.dataclass(cls)`` with the fields of ``tail`` declared last.

  Args:
    cls: the class; its ``__annotations__`` must be its own dict.
    tail: ``{name: (annotation, Field or default)}``, in the wanted order. Fields
      of these names are hidden from the bases' field tables while ``cls`` is
      processed (and restored afterwards), so they are not placed first.
    **dataclass_kwargs: passed to ``dataclasses.dataclass``.
  """
  ann = cls.__dict__['__annotations__']
  hidden: list[tuple[dict, dict]] = []
  tables_seen: set[int] = set()
  for base in cls.__mro__[1:]:
    table = getattr(base, '__dataclass_fields__', None)
    if table is None or id(table) in tables_seen:
      continue
    tables_seen.add(id(table))
    taken = {k: table.pop(k) for k in tail if k in table}
    if taken:
      hidden.append((table, taken))
  try:
    for name, (annotation, spec) in tail.items():
      ann.pop(name, None)
      ann[name] = annotation
      setattr(cls, name, spec)
    return dataclasses.dataclass(cls, **dataclass_kwargs)
  finally:
    for table, taken in hidden:
      table.update(taken)


def tail_of(cls: type) -> dict[str, tuple[Any, Any]]:
  """The tagged fields of the bases, then of ``cls``, each once (inherited order first)."""
  tail: dict[str, tuple[Any, Any]] = {}
  spec: Any  # a dataclasses.Field of a base, then what the class body assigned (or None)
  for base in reversed(cls.__mro__[1:]):
    if not dataclasses.is_dataclass(base):
      continue
    for spec in dataclasses.fields(base):
      if _tagged(spec) or spec.name in tail:
        tail[spec.name] = (spec.type, spec)
  for name, annotation in cls.__dict__['__annotations__'].items():
    spec = cls.__dict__.get(name)
    if _tagged(spec) or name in tail:
      tail[name] = (annotation, spec if spec is not None else tail[name][1])
  return tail


def _apply_marker(cls: type) -> None:
  ann = cls.__dict__['__annotations__']
  names = list(ann)
  marks = [n for n in names if ann[n] is KW_ONLY]
  if len(marks) > 1:
    raise TypeError('Multiple KW_ONLY markers')
  if marks:
    for name in names[names.index(marks[0]) + 1:]:
      _tag(cls, name)
    del ann[marks[0]]


@set_module(_PUBLIC)
def dataclass(cls: Any = None, extra_fields: Iterable[tuple[str, Any, Any]] | None = None,
              **kwargs: Any) -> Any:
  """``dataclasses.dataclass`` that declares keyword-only fields last (module docstring).

  Args:
    cls: the class (``None``: return a decorator).
    extra_fields: ``(name, annotation, Field)`` triples added to the class.
    **kwargs: passed to ``dataclasses.dataclass``.

  Raises:
    ValueError: a malformed ``extra_fields`` entry, or a keyword-only field
      without a default.
    TypeError: several ``KW_ONLY`` markers.
  """

  def wrap(klass: Any) -> Any:
    if '__annotations__' not in klass.__dict__:
      klass.__annotations__ = {}
    _apply_marker(klass)
    for name, annotation, spec in extra_fields or ():
      if not (isinstance(name, str) and isinstance(spec, dataclasses.Field)):
        raise ValueError('Expected extra_fields to a be a list of (name, type, Field) tuples.')
      setattr(klass, name, spec)
      klass.__annotations__[name] = annotation
    return build(klass, tail_of(klass), **kwargs)

  return wrap if cls is None else wrap(cls)
