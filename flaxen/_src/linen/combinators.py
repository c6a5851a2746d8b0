"""Combinators: ``Sequential`` (a chain of callables) and ``BatchApply`` (merge leading dims).

``Sequential(layers)`` calls ``layers[0](*args, **kwargs)`` and feeds each
output to the next layer: a tuple is splatted as positional arguments, a dict
as keyword arguments, anything else is passed as the single argument. Module
layers are adopted under the field name with their index (``layers_0``,
``layers_2``, ...; plain functions keep their index slot). An empty chain
raises ``ValueError`` when called.

``BatchApply(f, num_dims=2)`` is a plain callable (not a Module): it merges the
first ``num_dims`` axes of every array argument with rank >= ``num_dims`` into
one, calls ``f``, and splits the leading axis of every output back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from flaxen._src.linen._layer_utils import layer_error
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module

__all__ = ['BatchApply', 'Sequential']


@set_module('flaxen.linen.combinators')
class Sequential(Module):
  """Applies a sequence of callables (Modules or functions) one after another.

  Attributes:
    layers: the callables, in order.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(2)])
    >>> variables = model.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    >>> list(variables['params'])
    ['layers_0', 'layers_2']
  """

  layers: Sequence[Callable[..., Any]]

  def __post_init__(self):
    if not isinstance(self.layers, Sequence):
      raise ValueError(f"'layers' must be a sequence, got '{type(self.layers).__name__}'.")
    super().__post_init__()

  @compact
  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    """Runs the chain.

    Args:
      *args: positional inputs of the first layer.
      **kwargs: keyword inputs of the first layer.

    Returns:
      The output of the last layer.
    """
    if not self.layers:
      raise layer_error(self, 'empty Sequential module: layers must contain at least one '
                              'callable.')
    out = self.layers[0](*args, **kwargs)
    for layer in self.layers[1:]:
      if isinstance(out, tuple):
        out = layer(*out)
      elif isinstance(out, Mapping):
        out = layer(**out)
      else:
        out = layer(out)
    return out


@set_module('flaxen.linen')
class BatchApply:
  """Calls ``f`` with the leading ``num_dims`` axes of its array inputs merged into one.

  Useful to apply a layer that expects ``(batch, ...)`` to ``(time, batch, ...)``
  inputs. Arrays with fewer than ``num_dims`` axes (and non-arrays) are passed
  unchanged; every array output gets its leading axis split back.

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
    if num_dims < 1:
      raise ValueError(f'BatchApply: num_dims must be >= 1, got {num_dims}.')
    self.f = f
    self.num_dims = num_dims

  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    n = self.num_dims
    leaves = [x for x in jax.tree_util.tree_leaves((args, kwargs))
              if isinstance(x, (jax.Array, np.ndarray)) and x.ndim >= n]
    if not leaves:
      raise ValueError(f'BatchApply requires at least one array input with ndim >= {n}.')
    lead = tuple(leaves[0].shape[:n])
    for x in leaves[1:]:
      if tuple(x.shape[:n]) != lead:
        raise ValueError(f'BatchApply: every array input must share the leading {n} dims '
                         f'{lead}, got an input of shape {x.shape}.')

    def merge(x: Any) -> Any:
      if isinstance(x, (jax.Array, np.ndarray)) and x.ndim >= n:
        return x.reshape((int(np.prod(lead)),) + tuple(x.shape[n:]))
      return x

    def split(x: Any) -> Any:
      if isinstance(x, (jax.Array, np.ndarray)) and x.ndim >= 1:
        return x.reshape(lead + tuple(x.shape[1:]))
      return x

    args, kwargs = jax.tree_util.tree_map(merge, (args, kwargs))
    return jax.tree_util.tree_map(split, self.f(*args, **kwargs))
