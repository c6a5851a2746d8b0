"""Small helpers shared by the layers: axis/tuple canonicalization and layer errors.

Invariants:
  * every error raised for bad layer input names the layer class and its path
    in the module tree (``Dense "/encoder/Dense_0"``) and says what was
    expected and what was found;
  * helpers are pure Python on static shapes (no tracing, no JAX ops), so they
    cost nothing inside ``jit``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flaxen._src.core import meta


def module_path(mdl: Any) -> str:
  """Returns the ``/``-joined path of a (bound) module, ``'/'`` for the root."""
  scope = getattr(mdl, 'scope', None)
  path = getattr(scope, 'path', None) if scope is not None else None
  if path is None:
    name = getattr(mdl, 'name', None)
    return f'/{name}' if isinstance(name, str) else '/'
  return '/' + '/'.join(str(p) for p in path)


def describe(mdl: Any) -> str:
  """``'<ClassName> "<path>"'`` for error messages."""
  return f'{type(mdl).__name__} "{module_path(mdl)}"'


def layer_error(mdl: Any, message: str, cls: type[Exception] = ValueError) -> Exception:
  """Builds an exception of type ``cls`` whose message starts with the layer's identity."""
  return cls(f'{describe(mdl)}: {message}')


def canonicalize_tuple(x: int | Iterable[int]) -> tuple[int, ...]:
  """``3`` → ``(3,)``; any iterable of ints → a tuple of ints."""
  if isinstance(x, Iterable):
    return tuple(int(v) for v in x)
  return (int(x),)


def normalize_axes(mdl: Any, axes: int | Sequence[int], ndim: int, what: str = 'axis'
                   ) -> tuple[int, ...]:
  """Maps possibly-negative axes into ``range(ndim)``, raising a layer error if out of range."""
  out = []
  for ax in canonicalize_tuple(axes):
    if not -ndim <= ax < ndim:
      raise layer_error(mdl, f'{what} {ax} is out of range for an input of rank {ndim}.')
    out.append(ax % ndim)
  return tuple(out)


def check_min_rank(mdl: Any, x: Any, rank: int, expected: str) -> None:
  """Raises if ``x`` has fewer than ``rank`` dims; ``expected`` describes the layout."""
  if x.ndim < rank:
    raise layer_error(mdl, f'expected an input of shape {expected} (rank >= {rank}), '
                           f'got shape {tuple(x.shape)}.')


def reshape_init(init_fn: Any, flat_shape: tuple[int, ...]) -> Any:
  """Wraps ``init_fn`` to build a ``flat_shape`` value, then reshape it to the requested shape.

  Used where the reference initializes a multi-axis kernel as a 2-D matrix
  (so fan-in/fan-out are those of the flattened matrix). Boxed values
  (``nn.with_partitioning`` ...) keep their metadata box.
  """

  def init(key, shape, dtype=None):
    value = init_fn(key, flat_shape, dtype) if dtype is not None else init_fn(key, flat_shape)
    if isinstance(value, meta.AxisMetadata):
      return value.replace_boxed(value.unbox().reshape(shape))
    return value.reshape(shape)

  return init
