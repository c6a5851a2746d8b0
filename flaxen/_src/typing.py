"""The type aliases of the public API, defined once (public path: ``flaxen.typing``).

Every ``_src`` file takes ``Array``, ``Dtype``, ``PrecisionLike``... from here instead of
declaring its own ``Array = Any``. The names match the reference's ``flax.typing`` so that
annotations in users' code keep working after the import change. The module sits at the
``tree`` layer: it may use ``FrozenDict`` and nothing above it.

Besides aliases it holds a few tiny shared values:

* ``In`` / ``Out`` -- ``variable_axes`` markers of the mapping transforms;
* ``MISSING`` -- the sentinel for "no value given" (distinct from ``None``);
* ``SizeBytes`` -- an element count with its byte size, as tabulate reports it;
* ``HashableMapping`` -- a read-only mapping usable as a static (hashable) argument;
* ``PytreeDeque`` -- a ``collections.deque`` that JAX flattens like a list.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import functools
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any, Generic, Optional, Protocol, TypeVar, Union

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

try:  # python >= 3.10
  from typing import TypeGuard
except ImportError:  # pragma: no cover
  from typing_extensions import TypeGuard

_PUBLIC = 'flaxen.typing'

# --- arrays and keys ---------------------------------------------------------------------------
# An array argument: a jax.Array, or anything jnp.asarray accepts.
Array = Union[jax.Array, Any]
PRNGKey = jax.Array
# ``rngs=`` of init/apply: one key per stream name.
RNGSequences = dict[str, PRNGKey]
# Any tree of arrays (``flaxen.training.checkpoints.PyTree``, as in the reference).
PyTree = Any

# --- shapes and dtypes ---------------------------------------------------------------------------
Shape = Sequence[int]
# Whatever jnp.dtype() accepts (np.float32, 'bfloat16', a dtype object, ...).
Dtype = Union[jax.typing.DTypeLike, Any]

# --- pytree paths --------------------------------------------------------------------------------
K = TypeVar('K')


@set_module(_PUBLIC)
class Key(Hashable, Protocol):
  """A pytree path entry: anything hashable that can be ordered."""

  def __lt__(self: K, value: K, /) -> bool: ...


# a '/'-joined path, its parts, and the value found there
Path = str
PathParts = tuple[Key, ...]
Leaf = Any

# --- layer arguments -----------------------------------------------------------------------------
# ``precision=``: a single lax.Precision (or its name), or one per operand.
PrecisionLike = Union[
  None, str, jax.lax.Precision, tuple[str, str], tuple[jax.lax.Precision, jax.lax.Precision]
]
# ``padding=``: a name ('SAME', 'VALID', 'CIRCULAR', ...), one int, or per-dimension pads.
PaddingLike = Union[str, int, Sequence[Union[int, tuple[int, int]]]]
LaxPadding = Union[str, Sequence[tuple[int, int]]]
# injectable primitives (``dot_general=``, ``conv_general_dilated=``, ``einsum_cls``)
DotGeneralT = Callable[..., Array]
EinsumT = Callable[..., Array]
ConvGeneralDilatedT = Callable[..., Array]
# ``kernel_init=`` and friends: ``init(key, shape, dtype) -> Array``.
Initializer = Union[jax.nn.initializers.Initializer, Callable[..., Any]]

# --- variables -----------------------------------------------------------------------------------
Collection = Mapping[str, Any]
MutableCollection = dict[str, Any]
VariableDict = Mapping[str, Collection]
FrozenVariableDict = FrozenDict[str, Collection]
MutableVariableDict = dict[str, MutableCollection]
PRNGFoldable = Union[int, str]

# --- transform axes ------------------------------------------------------------------------------
T = TypeVar('T')


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class In(Generic[T]):
  """A ``variable_axes`` value: lift the collection into the transform only.

  Example:
    >>> from flaxen.typing import In
    >>> In(0).axis
    0
  """

  axis: T


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True)
class Out(Generic[T]):
  """A ``variable_axes`` value: lift the collection out of the transform only."""

  axis: T


Axis = Optional[int]
InOutAxis = Union[Axis, In[Axis], Out[Axis]]
ScanAxis = int
InOutScanAxis = Union[ScanAxis, In[ScanAxis], Out[ScanAxis]]
Axes = Union[int, Sequence[int]]

# --- partitioning --------------------------------------------------------------------------------
LogicalNames = tuple[Union[str, None], ...]
AxisName = Union[str, tuple[str, ...], None]
LogicalRules = Sequence[tuple[str, AxisName]]
ArrayPytree = Any
LogicalPartitionSpec = Any
LogicalPartitionSpecPytree = Any
PartitionSpecPytree = Any
Sharding = tuple[AxisName, ...]

A = TypeVar('A')
HA = TypeVar('HA', bound=Hashable)
HB = TypeVar('HB')
F = TypeVar('F', bound=Callable[..., Any])
TupleArg = TypeVar('TupleArg', bound=tuple)


# --- small shared values -------------------------------------------------------------------------
@set_module(_PUBLIC)
class PytreeDeque(collections.deque, Generic[A]):
  """A deque whose items are pytree children (JAX sees it like a list)."""


def _deque_children_with_keys(dq):
  return [(jax.tree_util.SequenceKey(i), item) for i, item in enumerate(dq)], None


jax.tree_util.register_pytree_with_keys(
  PytreeDeque,
  _deque_children_with_keys,
  lambda _, children: PytreeDeque(children),
  flatten_func=lambda dq: (list(dq), None),
)


@set_module(_PUBLIC)
class Missing:
  """Type of ``MISSING``: marks an argument that was not given at all."""


MISSING = Missing()


@set_module(_PUBLIC)
class ShapeDtype(Protocol):
  """Anything with a ``shape`` and a ``dtype`` (arrays, ``jax.ShapeDtypeStruct``)."""

  shape: Shape
  dtype: Dtype


@set_module(_PUBLIC)
def has_shape_dtype(x: Any) -> TypeGuard[ShapeDtype]:
  """True when ``x`` carries both a ``shape`` and a ``dtype``."""
  return hasattr(x, 'shape') and hasattr(x, 'dtype')


def _human_bytes(n: int) -> str:
  for scale, unit in ((1e9, 'GB'), (1e6, 'MB'), (1e3, 'KB')):
    if n > scale:
      return f'{n / scale:,.1f} {unit}'
  return f'{n:,} B'


@set_module(_PUBLIC)
@dataclasses.dataclass(frozen=True, slots=True)
class SizeBytes:
  """An element count and its size in bytes; adds up, prints as ``12 (48 B)``.

  Example:
    >>> import jax.numpy as jnp
    >>> SizeBytes.from_any({'w': jnp.zeros((3, 4)), 'b': jnp.zeros(4)})
    16 (64 B)
  """

  size: int
  bytes: int

  @classmethod
  def from_array(cls, x: ShapeDtype) -> SizeBytes:
    count = math.prod(x.shape)
    return cls(count, count * jnp.dtype(x.dtype).itemsize)

  @classmethod
  def from_any(cls, x: Any) -> SizeBytes:
    total = cls(0, 0)
    for leaf in jax.tree_util.tree_leaves(x):
      if has_shape_dtype(leaf):
        total = total + cls.from_array(leaf)
    return total

  def __add__(self, other: SizeBytes) -> SizeBytes:
    return type(self)(self.size + other.size, self.bytes + other.bytes)

  def __bool__(self) -> bool:
    return self.size != 0

  def __repr__(self) -> str:
    return f'{self.size:,} ({_human_bytes(self.bytes)})'


@set_module(_PUBLIC)
class PromoteDtypeFn(Protocol):
  """Signature of ``promote_dtype``-like functions taken by layers.

  Layers call it as ``self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)`` (each array,
  or ``None``, a positional argument) and unpack the returned sequence, so that is the
  signature declared here (the reference declares a single tuple argument, which its own
  layers do not pass).
  """

  def __call__(self, *args: Any, dtype: Any = None, inexact: bool = True) -> Sequence[Any]: ...


def _sort_key(item: tuple[Any, Any]) -> tuple[int, Any]:
  key = item[0]
  if isinstance(key, int):
    return (0, key)
  if isinstance(key, str):
    return (1, key)
  raise ValueError(f'Unsupported key type: {type(key)!r}')


@set_module(_PUBLIC)
class HashableMapping(Mapping[HA, HB], Hashable):
  """A read-only mapping with a hash (int and str keys), e.g. for static jit arguments.

  Example:
    >>> m = HashableMapping({'b': 1, 'a': 2})
    >>> hash(m) == hash(HashableMapping({'a': 2, 'b': 1}))
    True
  """

  def __init__(self, mapping: Mapping[HA, HB], copy: bool = True):
    self._mapping = dict(mapping) if copy else mapping

  def __getitem__(self, key: HA) -> HB:
    return self._mapping[key]

  def __contains__(self, key: object) -> bool:
    return key in self._mapping

  def __iter__(self) -> Iterator[HA]:
    return iter(self._mapping)

  def __len__(self) -> int:
    return len(self._mapping)

  def __hash__(self) -> int:
    return hash(tuple(sorted(self._mapping.items(), key=_sort_key)))

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, HashableMapping) and dict(self._mapping) == dict(other._mapping)

  def __repr__(self) -> str:
    return repr(self._mapping)

  def update(self, other: Mapping[HA, HB]) -> HashableMapping[HA, HB]:
    """Returns a new mapping with ``other``'s entries added (this one is unchanged)."""
    merged = dict(self._mapping)
    merged.update(other)
    return HashableMapping(merged, copy=False)


@set_module(_PUBLIC)
class BaseConfigContext(abc.ABC):
  """A setting with three uses: set it, scope it, or bind it to a function.

  Subclasses give a class-level default and the stack that holds the current value.
  ``Ctx(v)`` makes ``v`` current at once (it replaces the current setting); used as
  ``with Ctx(v):`` the previous setting comes back at the end of the block; used as a
  decorator ``@Ctx(v)`` it leaves the setting untouched and applies ``v`` only while
  the decorated function runs.
  """

  @classmethod
  @abc.abstractmethod
  def get_default(cls) -> Any: ...

  @classmethod
  @abc.abstractmethod
  def get_stack(cls) -> list: ...

  def __init__(self, value: Any, /):
    stack = self.get_stack()
    self.prev_value = stack[-1] if stack else None
    if stack:
      stack[-1] = value
    else:
      stack.append(value)
    self.new_value = value

  @classmethod
  def current_value(cls) -> Any:
    stack = cls.get_stack()
    return stack[-1] if stack else cls.get_default()

  def _undo_set(self) -> None:
    # take back what __init__ did: the new value leaves, the old one (if any) returns
    stack = self.get_stack()
    stack.pop()
    if self.prev_value is not None:
      stack.append(self.prev_value)

  def __enter__(self):
    # __init__ already installed the value; keep the old one underneath it
    if self.prev_value is not None:
      self.get_stack().insert(-1, self.prev_value)

  def __exit__(self, *exc) -> None:
    self.get_stack().pop()

  def __call__(self, f: F) -> F:
    self._undo_set()
    value = self.new_value
    stack_of = self.get_stack

    @functools.wraps(f)
    def run_with_value(*args, **kwargs):
      stack_of().append(value)
      try:
        return f(*args, **kwargs)
      finally:
        stack_of().pop()

    return run_with_value  # type: ignore[return-value]


# numpy is imported for users who annotate with np.ndarray next to these aliases
del np


@set_module(_PUBLIC)
def is_key_like(x: Any) -> TypeGuard[Key]:
  """Whether ``x`` can serve as a pytree path entry: it has ``__hash__`` and ``__lt__``.

  This is the reference's structural test on attribute presence: almost every
  object passes (``object`` defines ``__lt__``, and an unhashable type still
  has a ``__hash__`` attribute, ``None``).

  Example:
    >>> is_key_like('kernel'), is_key_like(3)
    (True, True)
  """
  return all(hasattr(x, name) for name in ('__hash__', '__lt__'))
