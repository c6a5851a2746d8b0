"""Small helpers for data-parallel (``pmap``) training loops.

``shard`` splits the leading (batch) axis over the local devices,
``shard_prng_key`` gives each device its own key, ``stack_forest`` and
``get_metrics`` gather per-step metric pytrees into arrays stacked over time
(``jax.Array`` leaves, as in the reference), and ``onehot`` builds dense one-hot
vectors. Errors on bad input are the ones the reference lets NumPy/JAX raise
(same class and message), with flaxen's advice added as a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.errors.base import add_hint
from flaxen._src.public import set_module

_PUBLIC = 'flaxen.training.common_utils'


@set_module(_PUBLIC)
def shard(xs: Any) -> Any:
  """Reshapes every leaf from ``(batch, ...)`` to ``(local devices, batch // devices, ...)``.

  Raises:
    ValueError: a NumPy leaf's leading axis is not divisible by the local device
      count (``TypeError`` for a JAX array, ``AttributeError`` for a Python
      scalar: the errors of ``leaf.reshape``).

  Example:
    >>> import jax, numpy as np
    >>> from flaxen.training import common_utils
    >>> n = jax.local_device_count()
    >>> common_utils.shard({'x': np.zeros((2 * n, 3))})['x'].shape == (n, 2, 3)
    True
  """
  d = jax.local_device_count()

  def split(x):
    try:
      return x.reshape((d, -1) + x.shape[1:])
    except (ValueError, TypeError, AttributeError) as e:
      raise add_hint(
        e,
        f'shard: a leaf of shape {np.shape(x)} cannot be split over {d} local devices '
        'along axis 0; its batch size must be a multiple of jax.local_device_count().',
      ) from None

  return jax.tree_util.tree_map(split, xs)


@set_module(_PUBLIC)
def shard_prng_key(prng_key: jax.Array) -> jax.Array:
  """Splits ``prng_key`` into one key per local device (leading axis = device count)."""
  return jax.random.split(prng_key, num=jax.local_device_count())


@set_module(_PUBLIC)
def stack_forest(forest: Sequence[Any]) -> Any:
  """Stacks a sequence of pytrees of matching structure leafwise (``jnp.stack``).

  Example:
    >>> from flaxen.training import common_utils
    >>> stacked = common_utils.stack_forest([{'loss': 1.0}, {'loss': 0.5}])
    >>> stacked['loss'].tolist()
    [1.0, 0.5]
  """
  return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *forest)


def _first_replica(x: Any) -> Any:
  """The copy held by the first local device: its shard, without the device axis.

  Reading the shard needs no device computation and works for arrays spread over
  several processes; host values (which the reference refuses) give ``x[0]``.
  """
  shards = getattr(x, 'addressable_shards', None)
  if shards is None:
    return np.asarray(x)[0]
  return shards[0].data.squeeze(0)


@set_module(_PUBLIC)
def get_metrics(device_metrics: Sequence[Any]) -> Any:
  """Gathers replicated per-step metrics into host arrays stacked over time.

  Args:
    device_metrics: a sequence (one entry per step) of replicated metric
      pytrees, as returned by a pmapped train step.

  Returns:
    One pytree whose leaves are arrays with a leading time axis, taken from the
    first replica.
  """
  first = jax.tree_util.tree_map(_first_replica, device_metrics)
  return stack_forest(jax.device_get(first))


@set_module(_PUBLIC)
def onehot(labels: Any, num_classes: int, on_value: float = 1.0, off_value: float = 0.0):
  """Dense one-hot encoding along a new last axis, as float32.

  Args:
    labels: an integer array of any rank.
    num_classes: the length of the one-hot axis; labels outside
      ``[0, num_classes)`` give all-``off_value`` rows.
    on_value: value at the label position.
    off_value: value elsewhere.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.training import common_utils
    >>> common_utils.onehot(jnp.array([0, 2]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
  """
  labels = jnp.asarray(labels)
  classes = jnp.arange(num_classes).reshape((1,) * labels.ndim + (num_classes,))
  hit = labels[..., None] == classes
  out = lax.select(hit, jnp.full(hit.shape, on_value), jnp.full(hit.shape, off_value))
  return out.astype(jnp.float32)
