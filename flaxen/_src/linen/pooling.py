"""Pooling functions: ``pool`` (generic window reduction), ``avg_pool``, ``max_pool``, ``min_pool``.

Layout is channels-last: ``inputs`` has shape ``(*batch, *window_dims, features)``
where ``len(window_dims) == len(window_shape)``. Any number of leading batch
dims is allowed (including none: an unbatched input gets a temporary batch
dim of size 1). Windows and strides never span the batch or feature axes.

``padding`` is ``'SAME'``, ``'VALID'`` (as understood by
``lax.reduce_window``) or one ``(low, high)`` pair per window dim. Padded
positions hold the reduction's ``init`` value (0 for sums, -inf for max).
``avg_pool(count_include_pad=False)`` divides each window sum by the number of
real (non-padded) elements in the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.public import set_module

__all__ = ['avg_pool', 'max_pool', 'min_pool', 'pool']

Array = Any
PoolPadding = str | Sequence[tuple[int, int]]


def _check_window(name: str, inputs: Array, window_shape: Sequence[int],
                  strides: Sequence[int] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
  if isinstance(window_shape, int) or not isinstance(window_shape, Sequence):
    raise TypeError(f'{name}: window_shape must be a sequence of ints (one per window '
                    f'dimension), got {window_shape!r}.')
  window = tuple(int(w) for w in window_shape)
  if strides is None:
    strides = (1,) * len(window)
  elif isinstance(strides, int) or not isinstance(strides, Sequence):
    raise TypeError(f'{name}: strides must be None or a sequence of ints, got {strides!r}.')
  strides = tuple(int(s) for s in strides)
  if len(strides) != len(window):
    raise ValueError(f'{name}: strides {strides} must have one entry per window dimension '
                     f'(window_shape {window}).')
  if jnp.ndim(inputs) < len(window) + 1:
    raise ValueError(f'{name}: inputs must have shape (*batch, *window_dims, features) with '
                     f'{len(window)} window dims, i.e. rank >= {len(window) + 1}; got shape '
                     f'{jnp.shape(inputs)}.')
  return window, strides


def _canonical_pool_padding(name: str, padding: Any, n: int) -> str | tuple[tuple[int, int], ...]:
  if isinstance(padding, str):
    up = padding.upper()
    if up not in ('SAME', 'VALID', 'SAME_LOWER'):
      raise ValueError(f"{name}: padding string must be 'SAME' or 'VALID', got {padding!r}.")
    return up
  try:
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
  except (TypeError, ValueError):
    raise ValueError(f"{name}: padding must be 'SAME', 'VALID' or a sequence of (low, high) "
                     f'pairs, got {padding!r}.') from None
  if len(pads) != n:
    raise ValueError(f'{name}: padding {pads} must give one (low, high) pair for each of the '
                     f'{n} window dimensions.')
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
    TypeError: if ``window_shape`` or ``strides`` is not a sequence.
    ValueError: on a rank / length / padding mismatch.

  Example:
    >>> import jax.numpy as jnp
    >>> from jax import lax
    >>> from flaxen import linen as nn
    >>> x = jnp.arange(4.0).reshape(1, 2, 2, 1)
    >>> nn.pool(x, 0.0, lax.add, (2, 2), (1, 1), 'VALID').ravel()
    Array([6.], dtype=float32)
  """
  window, strides = _check_window('pool', inputs, window_shape, strides)
  pads = _canonical_pool_padding('pool', padding, len(window))
  num_batch = jnp.ndim(inputs) - len(window) - 1
  squeeze = num_batch == 0
  if squeeze:
    inputs = inputs[None]
    num_batch = 1
  dims = (1,) * num_batch + window + (1,)
  full_strides = (1,) * num_batch + strides + (1,)
  if not isinstance(pads, str):
    pads = ((0, 0),) * num_batch + pads + ((0, 0),)
  y = lax.reduce_window(inputs, init, reduce_fn, dims, full_strides, pads)
  return y[0] if squeeze else y


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
  spatial = tuple(jnp.shape(inputs)[-n - 1:-1])
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
