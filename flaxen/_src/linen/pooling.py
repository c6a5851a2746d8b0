"""Pooling functions: ``pool`` (generic window reduction), ``avg_pool``, ``max_pool``, ``min_pool``.

Layout is channels-last: ``inputs`` has shape ``(*batch, *window_dims, features)``
where ``len(window_dims) == len(window_shape)``. Any number of leading batch
dims is allowed (including none: an unbatched input gets a temporary batch
dim of size 1). Windows and strides never span the batch or feature axes.

``padding`` is a string ``lax.reduce_window`` knows (``'SAME'``, ``'VALID'``,
``'SAME_LOWER'``, any case; lax raises its ``RuntimeError`` for others) or one
``(low, high)`` pair per window dim. Padded positions hold the reduction's
``init`` value (0 for sums, -inf for max). ``avg_pool(count_include_pad=False)``
divides each window sum by the number of real (non-padded) elements.

Bad arguments fail as in the reference: an int ``window_shape`` with its
``TypeError``, mismatched lengths and ranks with its ``assert`` texts (raised as
``BadLayerInput``, an ``AssertionError`` that is also a ``ValueError``). flaxen
also accepts lists for ``window_shape``/``strides`` and explicit padding with
several batch dims, which the reference rejects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.linen._layer_utils import BadLayerInput
from flaxen._src.public import set_module
from flaxen._src.typing import Array

__all__ = ['avg_pool', 'max_pool', 'min_pool', 'pool']

PoolPadding = str | Sequence[tuple[int, int]]


def _window(window_shape: Any) -> tuple[int, ...]:
  if isinstance(window_shape, int):
    raise TypeError(f"object of type 'int' has no len() (pool: window_shape must be a "
                    f'sequence with one size per window dimension, got {window_shape})')
  return tuple(window_shape)


def _explicit_pads(padding: Any, window: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
  pads = tuple(tuple(p) for p in padding)
  if len(pads) != len(window):
    raise BadLayerInput(f'pool: padding {pads} must specify pads for same number of dims as '
                        f'window_shape {window}')
  if any(len(p) != 2 for p in pads):
    raise BadLayerInput(f'pool: each entry in padding {pads} must be length 2')
  return pads


@set_module('flaxen.linen.pooling')
def pool(inputs: Array, init: Any, reduce_fn: Callable[[Any, Any], Any],
         window_shape: Sequence[int], strides: Sequence[int] | None,
         padding: PoolPadding) -> Array:
  """Reduces every window of ``inputs`` with ``reduce_fn`` (``lax.reduce_window``).

  Not generally differentiable: only ``lax.add`` / ``lax.max`` / ``lax.min``
  reductions with their identity as ``init`` have derivative rules in JAX.

  Args:
    inputs: array of shape ``(*batch, *window_dims, features)``.
    init: initial value of the reduction (its identity, e.g. ``0.`` for ``lax.add``).
    reduce_fn: ``(T, T) -> T`` reduction, e.g. ``lax.add`` or ``lax.max``.
    window_shape: window size, one int per window dim.
    strides: step per window dim (``None`` means all ones).
    padding: ``'SAME'``, ``'VALID'`` or a sequence of ``(low, high)`` pairs.

  Returns:
    The reduced array, shape ``(*batch, *out_window_dims, features)``.

  Raises:
    TypeError: if ``window_shape`` is an int (the reference's ``len()`` failure).
    AssertionError: (``BadLayerInput``, also a ``ValueError``) on a rank, length
      or padding mismatch, with the reference's texts.

  Example:
    >>> import jax.numpy as jnp
    >>> from jax import lax
    >>> from flaxen import linen as nn
    >>> x = jnp.arange(4.0).reshape(1, 2, 2, 1)
    >>> nn.pool(x, 0.0, lax.add, (2, 2), (1, 1), 'VALID').ravel()
    Array([6.], dtype=float32)
  """
  inputs = jnp.asarray(inputs)
  window = _window(window_shape)
  steps = tuple(strides) if strides else (1,) * len(window)
  if len(window) != len(steps):
    raise BadLayerInput(f'pool: len({window_shape}) must equal len({strides or steps})')
  n_batch = inputs.ndim - len(window) - 1
  if n_batch < 0:
    dims = window + (1,)
    raise BadLayerInput(f'pool: len({inputs.shape}) != len({dims}) (inputs must be '
                        f'(*batch, *window_dims, features) with {len(window)} window dims)')
  unbatched = n_batch == 0
  if unbatched:
    inputs, n_batch = inputs[None], 1
  outer = (1,) * n_batch
  if not isinstance(padding, str):
    padding = ((0, 0),) * n_batch + _explicit_pads(padding, window) + ((0, 0),)
  y = lax.reduce_window(inputs, init, reduce_fn, outer + window + (1,), outer + steps + (1,),
                        padding)
  return y[0] if unbatched else y


@set_module('flaxen.linen.pooling')
def avg_pool(inputs: Array, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: PoolPadding = 'VALID', count_include_pad: bool = True) -> Array:
  """Averages every window of ``inputs``.

  Args:
    inputs: array of shape ``(*batch, *window_dims, features)``.
    window_shape: window size, one int per window dim.
    strides: step per window dim (default all ones).
    padding: ``'SAME'``, ``'VALID'`` (default) or ``(low, high)`` pairs.
    count_include_pad: divide by the full window size (True, default) or only
      by the number of non-padded elements in each window (False).

  Returns:
    The pooled array.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.avg_pool(jnp.arange(4.0).reshape(1, 2, 2, 1), (2, 2)).ravel()
    Array([1.5], dtype=float32)
  """
  y = pool(inputs, 0.0, lax.add, window_shape, strides, padding)
  if count_include_pad:
    return y / np.prod(window_shape)
  # Count the real elements per window by pooling ones over the same geometry
  # (float ones of the default dtype, as the reference does).
  n = len(window_shape)
  spatial = tuple(np.shape(inputs)[-n - 1:-1])
  counts = pool(jnp.ones((1,) + spatial + (1,)), 0.0, lax.add, window_shape, strides, padding)
  out_spatial = counts.shape[1:-1]
  counts = counts.reshape((1,) * (y.ndim - n - 1) + out_spatial + (1,))
  return y / counts


@set_module('flaxen.linen.pooling')
def max_pool(inputs: Array, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: PoolPadding = 'VALID') -> Array:
  """Takes the maximum of every window of ``inputs`` (padding counts as -inf).

  Args:
    inputs: array of shape ``(*batch, *window_dims, features)``.
    window_shape: window size, one int per window dim.
    strides: step per window dim (default all ones).
    padding: ``'SAME'``, ``'VALID'`` (default) or ``(low, high)`` pairs.

  Returns:
    The pooled array.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.max_pool(jnp.arange(4.0).reshape(1, 2, 2, 1), (2, 2)).ravel()
    Array([3.], dtype=float32)
  """
  return pool(inputs, -jnp.inf, lax.max, window_shape, strides, padding)


@set_module('flaxen.linen.pooling')
def min_pool(inputs: Array, window_shape: Sequence[int], strides: Sequence[int] | None = None,
             padding: PoolPadding = 'VALID') -> Array:
  """Takes the minimum of every window of ``inputs`` (padding counts as +inf).

  Args:
    inputs: array of shape ``(*batch, *window_dims, features)``.
    window_shape: window size, one int per window dim.
    strides: step per window dim (default all ones).
    padding: ``'SAME'``, ``'VALID'`` (default) or ``(low, high)`` pairs.

  Returns:
    The pooled array.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> nn.min_pool(jnp.arange(4.0).reshape(1, 2, 2, 1), (2, 2)).ravel()
    Array([0.], dtype=float32)
  """
  return pool(inputs, jnp.inf, lax.min, window_shape, strides, padding)
