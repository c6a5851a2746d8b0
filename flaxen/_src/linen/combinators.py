"""``Sequential``: a chain of callables, each fed the previous one's output.

``Sequential(layers)`` calls ``layers[0](*args, **kwargs)`` and hands each
output to the next layer: a ``tuple`` (namedtuples included) is splatted as
positional arguments, a plain ``dict`` as keyword arguments, anything else
(``FrozenDict`` included) is passed as the single argument. Module layers are
adopted under the field name with their index (``layers_0``, ``layers_2``,
...; plain functions keep their index slot). ``layers`` must be a sequence
(checked at construction); an empty chain raises ``ValueError`` when called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flaxen._src.linen._layer_utils import layer_error
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module

__all__ = ['Sequential']


def feed(layer: Callable[..., Any], value: Any) -> Any:
  """Calls ``layer`` on the previous output: tuples splatted, dicts as keywords, else as is."""
  if isinstance(value, tuple):
    return layer(*value)
  if isinstance(value, dict):
    return layer(**value)
  return layer(value)


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

    Raises:
      ValueError: when ``layers`` is empty (the reference's message).
    """
    if not self.layers:
      raise layer_error(self, f'Empty Sequential module {self.name}.',
                        hint='give it at least one layer')
    first, *rest = self.layers
    value = first(*args, **kwargs)
    for layer in rest:
      value = feed(layer, value)
    return value
