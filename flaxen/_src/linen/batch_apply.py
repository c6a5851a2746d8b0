"""``BatchApply``: call a function with several leading axes of its inputs merged into one.

A plain callable, not a Module (public path ``flaxen.linen.batch_apply``):

* every leaf of the arguments with at least ``num_dims`` axes gets its first
  ``num_dims`` axes merged into one (``merge_leading_dims``); other leaves
  (scalars, low-rank arrays) pass unchanged;
* the leading shape to restore is taken from the first such leaf, searching
  the positional arguments before the keyword ones
  (``arbitrary_mergeable_leaf``); without one, ``ValueError``;
* every leaf of the output gets its leading axis split back into that shape
  (``split_leading_dim``), so outputs must be arrays.

Non-array leaves (Python numbers) count by the rank ``jnp.asarray`` gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.typing import Array

__all__ = [
  'BatchApply', 'arbitrary_mergeable_leaf', 'merge_leading_dims', 'ndim_at_least',
  'split_leading_dim',
]

_PUBLIC = 'flaxen.linen.batch_apply'


@set_module(_PUBLIC)
def ndim_at_least(x: Any, num_dims: int) -> bool:
  """Whether ``x`` (an array, or anything ``jnp.asarray`` takes) has ``num_dims`` axes or more.

  Example:
    >>> from flaxen.linen import batch_apply
    >>> batch_apply.ndim_at_least([[1.0]], 2), batch_apply.ndim_at_least(3.0, 1)
    (True, False)
  """
  rank = x.ndim if isinstance(x, (jax.Array, np.ndarray)) else jnp.asarray(x).ndim
  return rank >= num_dims


@set_module(_PUBLIC)
def arbitrary_mergeable_leaf(min_num_dims: int, args: Sequence[Any],
                             kwargs: Mapping[str, Any]) -> Any:
  """The first leaf of ``args``, then of ``kwargs``, with at least ``min_num_dims`` axes (or None)."""
  for tree in (args, kwargs):
    for leaf in jax.tree_util.tree_leaves(tree):
      if ndim_at_least(leaf, min_num_dims):
        return leaf
  return None


@set_module(_PUBLIC)
def merge_leading_dims(x: Any, num_dims: int) -> Any:
  """``x`` with its first ``num_dims`` axes merged into one; ``x`` itself if it has fewer.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.linen import batch_apply
    >>> batch_apply.merge_leading_dims(jnp.ones((2, 3, 4)), 2).shape
    (6, 4)
  """
  if not ndim_at_least(x, num_dims):
    return x
  merged = np.prod(x.shape[:num_dims])
  return x.reshape((merged,) + x.shape[num_dims:])


@set_module(_PUBLIC)
def split_leading_dim(x: Array, to_dim: tuple[int, ...]) -> Array:
  """``x`` with its leading axis reshaped into ``to_dim``."""
  new_shape = tuple(to_dim) + x.shape[1:]
  return x.reshape(new_shape)


@set_module(_PUBLIC)
class BatchApply:
  """Calls ``f`` with the leading ``num_dims`` axes of its array inputs merged into one.

  Useful to apply a layer that expects ``(batch, ...)`` to ``(time, batch, ...)``
  inputs (see the module docstring for the exact rules).

  Args:
    f: the function (or bound Module) to call.
    num_dims: number of leading axes to merge (default 2).

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> f = nn.BatchApply(lambda x: x.sum(axis=-1, keepdims=True))
    >>> f(jnp.ones((2, 3, 4))).shape
    (2, 3, 1)
  """

  def __init__(self, f: Callable[..., Any], num_dims: int = 2):
    self._f = f
    self.num_dims = num_dims

  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    n = self.num_dims
    example = arbitrary_mergeable_leaf(n, args, kwargs)
    if example is None:
      raise ValueError(f'BatchApply requires at least one input with ndim >= {n}.')
    lead = tuple(example.shape[:n])
    args, kwargs = jax.tree_util.tree_map(lambda x: merge_leading_dims(x, n), (args, kwargs))
    outputs = self._f(*args, **kwargs)
    return jax.tree_util.tree_map(lambda y: split_leading_dim(y, lead), outputs)
