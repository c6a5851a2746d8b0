"""Pure shape/padding arithmetic of the convolution layers (no Module, no params).

* ``canonicalize_padding``: a padding spec -> a padding string or one
  ``(low, high)`` pair per spatial dim. Strings are returned unchanged (the
  layers handle ``'CIRCULAR'``, ``'REFLECT'`` and ``'CAUSAL'`` themselves and
  hand every other string to lax, which knows ``'SAME'``, ``'VALID'`` and
  ``'SAME_LOWER'`` in any case); an int means the same symmetric padding on
  every dim; a sequence has one int or ``(low, high)`` pair per spatial dim.
* ``conv_dimension_numbers``: channels-last layout (``N...C`` inputs,
  ``...IO`` kernels) as ``lax.ConvDimensionNumbers``.
* ``pre_pad``: explicit input padding for the modes lax does not know
  (circular wrap, reflection, causal left-padding); afterwards the
  convolution runs with ``'VALID'``.
* ``circular_transpose_wrap``: folds a transposed-convolution output back onto
  a period of ``input_size * stride`` per spatial dim (circular ConvTranspose).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
from jax import lax

from flaxen._src.public import set_module
from flaxen._src.typing import LaxPadding, PaddingLike


def _as_pair(p: Any) -> tuple[int, int] | None:
  """``3`` -> ``(3, 3)``; a 2-tuple/list -> itself as a tuple; anything else -> None."""
  if isinstance(p, int):
    return (p, p)
  if isinstance(p, (tuple, list)) and len(p) == 2:
    return tuple(p)
  return None


@set_module('flaxen.linen.linear')
def canonicalize_padding(padding: PaddingLike, rank: int) -> LaxPadding:
  """Normalizes a padding spec for ``rank`` spatial dims.

  Args:
    padding: a string (returned unchanged), an int, or a sequence of ``rank``
      ints / ``(low, high)`` pairs.
    rank: number of spatial dims.

  Returns:
    The string, or a list of ``rank`` ``(low, high)`` pairs.

  Raises:
    ValueError: for a malformed spec (the reference's message).

  Example:
    >>> from flaxen.linen import linear
    >>> linear.canonicalize_padding(1, 2)
    [(1, 1), (1, 1)]
    >>> linear.canonicalize_padding([2, (0, 1)], 2)
    [(2, 2), (0, 1)]
  """
  if isinstance(padding, str):
    return padding
  if isinstance(padding, int):
    return [(padding, padding)] * rank
  if isinstance(padding, Sequence) and len(padding) == rank:
    pairs = [_as_pair(p) for p in padding]
    if all(pair is not None for pair in pairs):
      return pairs  # type: ignore[return-value]
  raise ValueError(f'Invalid padding format: {padding}, should be str, int,'
                   f' or a sequence of len {rank} where each element is an'
                   ' int or pair of ints.')


def conv_dimension_numbers(ndim: int) -> lax.ConvDimensionNumbers:
  """Channels-last dimension numbers for inputs of rank ``ndim`` (batch, spatial..., features)."""
  lhs = (0, ndim - 1) + tuple(range(1, ndim - 1))
  rhs = (ndim - 1, ndim - 2) + tuple(range(ndim - 2))
  return lax.ConvDimensionNumbers(lhs, rhs, lhs)


def pre_pad(inputs: Any, mode: str, kernel_size: Sequence[int],
            kernel_dilation: Sequence[int]) -> Any:
  """Pads a ``(batch, spatial..., features)`` input for CIRCULAR / REFLECT / CAUSAL modes.

  CIRCULAR and REFLECT pad ``((k-1)//2, k//2)`` per spatial dim, with ``k`` the
  dilated kernel size; CAUSAL (1-D only; checked by the caller) pads
  ``dilation * (k - 1)`` on the left so the output keeps the input length.
  """
  dilated = [(k - 1) * d + 1 for k, d in zip(kernel_size, kernel_dilation)]
  if mode == 'CAUSAL':
    left = kernel_dilation[0] * (kernel_size[0] - 1)
    return jnp.pad(inputs, [(0, 0), (left, 0), (0, 0)])
  pads = [(0, 0)] + [((k - 1) // 2, k // 2) for k in dilated] + [(0, 0)]
  return jnp.pad(inputs, pads, mode={'CIRCULAR': 'wrap', 'REFLECT': 'reflect'}[mode])


def circular_transpose_wrap(y: Any, in_spatial: Sequence[int], strides: Sequence[int],
                            transpose_kernel: bool) -> Any:
  """Wraps a ``'VALID'`` transposed-conv output periodically onto ``in_size * stride`` per dim.

  The output is first padded to a whole number of periods, placed so that the
  start of the input's image lands on a period boundary (otherwise the result
  would be shifted), then every period is summed onto the first.
  """
  periods = [int(n) * int(s) for n, s in zip(in_spatial, strides)]
  pads = []
  for size, period in zip(y.shape[1:-1], periods):
    missing = -(size - period) % (2 * period)
    if transpose_kernel:
      pads.append((missing // 2, (missing + 1) // 2))
    else:
      pads.append(((missing + 1) // 2, missing // 2))
  y = jnp.pad(y, [(0, 0)] + pads + [(0, 0)])
  for i, period in enumerate(periods, start=1):
    y = y.reshape(y.shape[:i] + (-1, period) + y.shape[i + 1:]).sum(axis=i)
  return y
