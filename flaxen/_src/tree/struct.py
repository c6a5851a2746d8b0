"""Struct dataclasses: dataclasses that are JAX pytrees (``flaxen.struct``).

Invariants:
  * ``dataclass(cls)`` returns ``cls`` turned into a dataclass (a new class
    only when ``slots=True``, as ``dataclasses`` does), frozen unless
    ``frozen=False`` is passed; assigning a field of a frozen one raises
    ``dataclasses.FrozenInstanceError``; ``obj.replace(**updates)`` returns a
    modified copy;
  * fields declared with ``field(pytree_node=False)`` are static: they travel in
    the pytree's aux data (must be hashable for ``jit``); all other ``init``
    fields are children, keyed by ``jax.tree_util.GetAttrKey``;
  * unflattening calls the constructor with every init field, as
    ``jax.tree_util.register_dataclass`` does (keep ``__init__`` 1:1 with the
    fields; put smart constructors in classmethods);
  * applying ``dataclass`` to a class it already made is a no-op (whatever the
    arguments); a subclass of a struct class is a plain class until decorated
    itself (``PyTreeNode`` subclasses are decorated automatically);
  * ``PyTreeNode`` subclasses cooperate with ``__init_subclass__`` of other
    bases (``typing.Generic`` included, so ``class Box(PyTreeNode, Generic[T])``
    and ``Box[int](...)`` work);
  * struct classes carry the reference's ``_flax_dataclass = True`` flag,
    flaxen's ``__flaxen_struct__ = True`` mark and the cached field
    tuples ``__flaxen_data_fields__`` / ``__flaxen_meta_fields__`` so the
    serialization layer (which may not import this module's callers) can
    recognise them; each ``dataclasses.Field`` keeps
    ``metadata['pytree_node']``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

import jax
from typing_extensions import dataclass_transform

from flaxen._src.public import set_module

T = TypeVar('T')
TNode = TypeVar('TNode', bound='PyTreeNode')

_STRUCT_MARK = '__flaxen_struct__'


@set_module('flaxen.struct')
def field(pytree_node: bool = True, *, metadata: dict | None = None, **kwargs) -> Any:
  """A ``dataclasses.field`` that also says whether it is a pytree child.

  Args:
    pytree_node: ``False`` marks static metadata (functions, configs, ...) that
      is kept out of the pytree's leaves.
    metadata: extra field metadata, merged with ``{'pytree_node': ...}``.
    **kwargs: passed to ``dataclasses.field`` (``default``, ``default_factory``,
      ``kw_only``, ...).

  Returns:
    The dataclass field specification.
  """
  return dataclasses.field(metadata={**(metadata or {}), 'pytree_node': pytree_node}, **kwargs)


def _replace(self, **updates):
  """Returns a copy of this struct with the given fields replaced."""
  return dataclasses.replace(self, **updates)


# Python names the method in its own errors ("replace() takes 1 positional argument
# ..."): use the name the reference's method has, so messages match.
_replace.__name__ = 'replace'
_replace.__qualname__ = 'dataclass.<locals>.replace'


@overload
@dataclass_transform(field_specifiers=(field,))
def dataclass(clz: type[T], **kwargs: Any) -> type[T]: ...


@overload
@dataclass_transform(field_specifiers=(field,))
def dataclass(**kwargs: Any) -> Callable[[type[T]], type[T]]: ...


@set_module('flaxen.struct')
@dataclass_transform(field_specifiers=(field,))
def dataclass(clz: type[T] | None = None, **kwargs: Any) -> Any:
  """Turns ``clz`` into a dataclass (frozen by default) registered as a JAX pytree.

  Args:
    clz: the class; when omitted, returns a decorator (``@dataclass(kw_only=True)``).
    **kwargs: passed to ``dataclasses.dataclass``; ``frozen`` defaults to True
      (``frozen=False`` makes instances mutable, as in the reference).

  Returns:
    The dataclass: ``clz`` itself, or the new class ``dataclasses`` builds for
    ``slots=True``.

  Example:
    >>> from flaxen import struct
    >>> @struct.dataclass
    ... class Model:
    ...   weight: float
    ...   name: str = struct.field(pytree_node=False, default='m')
    >>> m = Model(1.0)
    >>> import jax
    >>> jax.tree_util.tree_leaves(m)
    [1.0]
    >>> m.replace(weight=2.0).weight
    2.0
  """
  if clz is None:
    return functools.partial(dataclass, **kwargs)
  if clz.__dict__.get(_STRUCT_MARK, False):
    return clz
  kwargs.setdefault('frozen', True)
  # typed as Any: the class gains attributes below that its own definition does not declare
  data_clz: Any = dataclasses.dataclass(**kwargs)(clz)

  data_fields, meta_fields, dropped = [], [], []
  for f in dataclasses.fields(data_clz):
    if not f.init:
      dropped.append(f.name)
    elif f.metadata.get('pytree_node', True):
      data_fields.append(f.name)
    else:
      meta_fields.append(f.name)

  data_clz.replace = _replace
  setattr(data_clz, _STRUCT_MARK, True)
  data_clz._flax_dataclass = True
  data_clz.__flaxen_data_fields__ = tuple(data_fields)
  data_clz.__flaxen_meta_fields__ = tuple(meta_fields)
  jax.tree_util.register_dataclass(data_clz, data_fields, meta_fields, drop_fields=dropped)
  return data_clz


def is_struct_dataclass(x: Any) -> bool:
  """Whether ``x`` (a class or an instance) is a struct dataclass."""
  cls = x if isinstance(x, type) else type(x)
  return bool(cls.__dict__.get(_STRUCT_MARK, False))


@set_module('flaxen.struct')
@dataclass_transform(field_specifiers=(field,))
class PyTreeNode:
  """Base class alternative to ``@struct.dataclass``.

  Every subclass becomes a struct dataclass; class keyword arguments are
  forwarded to ``dataclasses.dataclass`` (``class A(PyTreeNode, kw_only=True)``).

  Example:
    >>> from typing import Any
    >>> from flaxen import struct
    >>> class Params(struct.PyTreeNode):
    ...   w: float
    ...   fn: Any = struct.field(pytree_node=False, default=None)
    >>> Params(w=1.0).replace(w=3.0).w
    3.0
  """

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__()  # e.g. typing.Generic records the type parameters here
    dataclass(cls, **kwargs)

  def __init__(self, *args, **kwargs):
    # replaced by the dataclass __init__ of every subclass; the base holds no fields
    raise NotImplementedError('PyTreeNode is a base class: subclass it to define fields.')

  def replace(self: TNode, **overrides: Any) -> TNode:
    """Returns a copy with ``overrides`` applied (installed on every subclass)."""
    raise NotImplementedError('PyTreeNode is a base class: subclass it to define fields.')
