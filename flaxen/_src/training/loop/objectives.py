"""Losses and metrics of the training loop, by name or as functions.

Both kinds are functions ``(outputs, targets) -> values`` where ``values`` has
one entry per example (shape ``[batch]``); the loop turns them into (weighted)
means. A loss may also return a scalar that is already the batch mean (then
the batch may not carry weights).

Named losses bring their usual metrics along:
  * ``'cross_entropy'``: softmax cross-entropy of logits against integer class
    labels, with ``accuracy``;
  * ``'mse'``: mean squared error (averaged over the non-batch axes), no metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
import optax

from flaxen._src.public import set_module

Objective = Callable[[Any, Any], Any]


@set_module('flaxen.training.loop')
def softmax_cross_entropy(logits: Any, labels: Any) -> Any:
  """Per-example cross-entropy of ``logits[..., classes]`` against integer ``labels``.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.training.loop import softmax_cross_entropy
    >>> loss = softmax_cross_entropy(jnp.array([[0.0, 0.0]]), jnp.array([1]))
    >>> print(f'{float(loss[0]):.4f}')  # log(2)
    0.6931
  """
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


@set_module('flaxen.training.loop')
def accuracy(logits: Any, labels: Any) -> Any:
  """Per-example 1.0 where the arg-max of ``logits`` equals the integer label, else 0.0.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.training.loop import accuracy
    >>> accuracy(jnp.array([[0.1, 0.9], [0.8, 0.2]]), jnp.array([1, 1])).tolist()
    [1.0, 0.0]
  """
  return (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)


@set_module('flaxen.training.loop')
def mean_squared_error(predictions: Any, targets: Any) -> Any:
  """Per-example squared error, averaged over every axis but the first.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.training.loop import mean_squared_error
    >>> mean_squared_error(jnp.array([[1.0, 3.0]]), jnp.array([[0.0, 0.0]])).tolist()
    [5.0]
  """
  error = jnp.square(predictions - targets)
  return error.reshape((error.shape[0], -1)).mean(axis=1) if error.ndim > 1 else error


# name -> (loss, the metrics that come with it)
NAMED: dict[str, tuple[Objective, dict[str, Objective]]] = {
  'cross_entropy': (softmax_cross_entropy, {'accuracy': accuracy}),
  'mse': (mean_squared_error, {}),
}


def resolve(loss: str | Objective,
            metrics: Mapping[str, Objective] | None) -> tuple[Objective, tuple]:
  """``(loss function, ((name, metric function), ...) sorted by name)``.

  Raises:
    ValueError: unknown loss name, or a metric called ``loss``.
    TypeError: a loss or metric that is not callable.
  """
  default_metrics: dict[str, Objective] = {}
  if isinstance(loss, str):
    if loss not in NAMED:
      raise ValueError(f'unknown loss {loss!r}; name one of {sorted(NAMED)} or pass a function '
                       f'(outputs, targets) -> per-example losses')
    loss, default_metrics = NAMED[loss]
  if not callable(loss):
    raise TypeError(f'loss must be a name or a function, got {type(loss).__name__}')
  chosen = dict(default_metrics if metrics is None else metrics)
  for name, fn in chosen.items():
    if name == 'loss':
      raise ValueError("'loss' is reserved for the loss itself; give the metric another name")
    if not callable(fn):
      raise TypeError(f'metric {name!r} must be a function, got {type(fn).__name__}')
  return loss, tuple(sorted(chosen.items()))
