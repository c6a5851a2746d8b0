"""What every layer shares: its identity in error messages, input errors and axis handling.

One home for three concepts the layers would otherwise each re-invent:

* **Errors.** A layer that rejects its input raises the exception class the
  reference raises for the same input (``ValueError``, ``IndexError``,
  ``TypeError``, ``NotImplementedError``, ...) and its message *contains the
  reference's text verbatim*. flaxen wraps that text: the message starts with
  the layer class and its path in the module tree (``Dense "/encoder/Dense_0"``)
  and may end with a hint in parentheses. Where the reference fails with a bare
  ``assert`` we raise ``BadLayerInput``, an ``AssertionError`` that is also a
  ``ValueError``.
* **Hints on errors raised by JAX.** Where the reference lets a JAX primitive
  fail (a shape that cannot broadcast, a contraction that does not fit), flaxen
  lets the very same exception through and only attaches a note that says which
  layer input was at fault (``input_hint``). Class and text stay JAX's.
* **Axes.** Axes are canonicalized the reference's way: a negative axis gets
  the rank added *once*, without a range check (so ``-rank - 1`` stays
  negative and later indexes from the end, as in the reference). Linear layers
  then sort them; normalization layers de-duplicate them through a set.

Everything here is pure Python on static shapes: no tracing, no JAX ops.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flaxen._src.core import meta

# Python's own texts for the failures the reference runs into on bad input.
TUPLE_INDEX = 'tuple index out of range'
LIST_ASSIGNMENT_INDEX = 'list assignment index out of range'
MODULO_BY_ZERO = 'integer modulo by zero'


class BadLayerInput(AssertionError, ValueError):
  """A layer input failed a check the reference makes with a bare ``assert``.

  It is an ``AssertionError`` (the reference's class) and a ``ValueError``, so
  ``except`` clauses of either kind catch it; unlike an ``assert`` it also
  fires under ``python -O``.
  """


def module_path(mdl: Any) -> str:
  """The ``/``-joined path of a (bound) module; ``'/'`` for the root.

  An unbound module with an explicit name is reported as ``'/<name>'``.
  """
  scope = getattr(mdl, 'scope', None)
  path = getattr(scope, 'path', None) if scope is not None else None
  if path is None:
    name = getattr(mdl, 'name', None)
    return f'/{name}' if isinstance(name, str) else '/'
  return '/' + '/'.join(str(p) for p in path)


def describe(mdl: Any) -> str:
  """``'<ClassName> "<path>"'``, the prefix of every layer error message."""
  return f'{type(mdl).__name__} "{module_path(mdl)}"'


def layer_message(mdl: Any, text: str, hint: str | None = None) -> str:
  """``'<Class> "<path>": <text>'``, followed by ``' (<hint>)'`` when a hint is given."""
  where = describe(mdl) if mdl is not None else 'flaxen'
  return f'{where}: {text}' + (f' ({hint})' if hint else '')


def layer_error(mdl: Any, text: str, cls: type[Exception] = ValueError,
                hint: str | None = None) -> Exception:
  """Builds (does not raise) a ``cls`` whose message is ``layer_message(mdl, text, hint)``.

  ``text`` is the reference's message for the same failure, kept verbatim.
  """
  return cls(layer_message(mdl, text, hint))


@contextlib.contextmanager
def input_hint(mdl: Any, problem: str | None) -> Iterator[None]:
  """Adds ``problem`` as a note to any exception escaping the block.

  Used around JAX calls whose failure the reference also lets through: the
  exception keeps its class and text, the note names the layer and the input
  that did not fit. ``problem=None`` (the input looked fine) adds nothing.
  """
  try:
    yield
  except Exception as e:
    if problem is not None and hasattr(e, 'add_note'):
      e.add_note(layer_message(mdl, problem))
    raise


def canonicalize_tuple(x: Any) -> tuple[Any, ...]:
  """``3`` -> ``(3,)``; any iterable -> a tuple of its items (unchanged)."""
  if isinstance(x, Iterable):
    return tuple(x)
  return (x,)


def shift_negative_axes(rank: int, axes: Any) -> list[int]:
  """Each axis of ``axes`` (int or iterable) with ``rank`` added once if it is negative."""
  return [ax + rank if ax < 0 else ax for ax in canonicalize_tuple(axes)]


def sorted_axes(rank: int, axes: Any) -> tuple[int, ...]:
  """Linear layers' axes: shifted (see ``shift_negative_axes``), then sorted; no de-duplication."""
  return tuple(sorted(shift_negative_axes(rank, axes)))


def canonicalize_axes(rank: int, axes: Any) -> tuple[int, ...]:
  """Normalization layers' axes: shifted, then de-duplicated in ``set`` iteration order."""
  return tuple(set(shift_negative_axes(rank, axes)))


def check_axes_index(mdl: Any, shape: Sequence[int], axes: Iterable[int], what: str) -> None:
  """Raises ``IndexError`` (the reference's class and text) for an axis ``shape`` lacks.

  An axis is valid exactly when ``shape[axis]`` works, i.e. ``-len <= axis < len``.
  """
  rank = len(shape)
  for ax in axes:
    if not -rank <= ax < rank:
      raise layer_error(mdl, TUPLE_INDEX, IndexError,
                        hint=f'{what} contains axis {ax}, but the input of shape '
                             f'{tuple(shape)} has rank {rank}')


@dataclasses.dataclass(frozen=True)
class reshape_init:  # noqa: N801 - used like the function it replaces
  """``init_fn`` building a ``flat_shape`` value, reshaped to the shape asked for.

  Used where the reference initializes a multi-axis kernel as a 2-D matrix (so
  fan-in/fan-out are those of the flattened matrix). Boxed values
  (``nn.with_partitioning`` ...) keep their metadata box. A frozen dataclass,
  so equal wrappers hash equal and the apply-time param-shape check (cached
  per initializer) does not re-trace the initializer on every call.
  """

  init_fn: Any
  flat_shape: tuple[int, ...]
  flaxen_init_wrapper = True  # ``init_fn`` is the wrapped initializer (core.param_shape)

  def __call__(self, key: Any, shape: Sequence[int], dtype: Any = None) -> Any:
    if dtype is None:
      value = self.init_fn(key, self.flat_shape)
    else:
      value = self.init_fn(key, self.flat_shape, dtype)
    if isinstance(value, meta.AxisMetadata):
      return value.replace_boxed(value.unbox().reshape(shape))
    return value.reshape(shape)
