"""Learning-rate schedules of the reference's image-classification examples.

Each factory returns ``f(step) -> learning rate`` (a jnp scalar, jit-friendly).
They are kept for compatibility; new code should use Optax schedules
(``optax.warmup_cosine_decay_schedule``, ``optax.join_schedules``, ...). Every
factory call logs a deprecation message (``logging``, not ``warnings``).

Formulae (``spe`` = steps per epoch):
  * warmup factor: ``min(1, step / (warmup_length * spe))`` when
    ``warmup_length > 0``, multiplied into every schedule;
  * constant: ``base``;
  * stepped: ``base * factor_i`` where ``i`` counts the boundaries
    ``round(epoch_i * spe)`` strictly below ``step`` (factor 1 before the first);
  * cosine: ``base * (0.5 * cos(pi * step / (halfcos_epochs * spe)) + 0.5)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from flaxen._src.public import set_module

_PUBLIC = 'flaxen.training.lr_schedule'
_log = logging.getLogger(__name__)
# the reference's message (it logs it, it does not warn), then which factory was called
_DEPRECATION = (
  'Learning rate schedules in ``flax.training`` are effectively deprecated in favor of Optax '
  'schedules. Please refer to https://optax.readthedocs.io/en/latest/api.html#optimizer-schedules'
  ' for alternatives. (flaxen.training.lr_schedule.%s)'
)


def _warmup(lr, step, warmup_length: float, steps_per_epoch: int):
  if warmup_length > 0.0:
    lr = lr * jnp.minimum(1.0, step / float(warmup_length) / steps_per_epoch)
  return lr


@set_module(_PUBLIC)
def create_constant_learning_rate_schedule(
  base_learning_rate: float, steps_per_epoch: int, warmup_length: float = 0.0
) -> Callable:
  """A constant learning rate with optional linear warmup.

  Args:
    base_learning_rate: the learning rate.
    steps_per_epoch: iterations per epoch.
    warmup_length: if > 0, ramp linearly from 0 to 1 over that many epochs.

  Returns:
    ``f(step) -> lr`` (without warmup, ``base_learning_rate`` itself, as in the
    reference).

  Example:
    >>> from flaxen.training import lr_schedule
    >>> f = lr_schedule.create_constant_learning_rate_schedule(0.1, 10, warmup_length=1.0)
    >>> round(float(f(5)), 6), round(float(f(50)), 6)
    (0.05, 0.1)
  """
  _log.warning(_DEPRECATION, 'create_constant_learning_rate_schedule')

  def learning_rate_fn(step):
    return _warmup(base_learning_rate, step, warmup_length, steps_per_epoch)

  return learning_rate_fn


@set_module(_PUBLIC)
def create_stepped_learning_rate_schedule(
  base_learning_rate: float,
  steps_per_epoch: int,
  lr_sched_steps: Sequence[Sequence[float]],
  warmup_length: float = 0.0,
) -> Callable:
  """A piecewise-constant learning rate with optional warmup.

  Args:
    base_learning_rate: the learning rate before the first boundary.
    steps_per_epoch: iterations per epoch.
    lr_sched_steps: ``[[epoch, factor], ...]``; after ``epoch`` epochs the
      learning rate is ``base_learning_rate * factor``. ImageNet's classic
      schedule is ``[[30, 0.1], [60, 0.01], [80, 0.001]]``.
    warmup_length: if > 0, ramp linearly from 0 to 1 over that many epochs.

  Returns:
    ``f(step) -> lr``.

  Example:
    >>> from flaxen.training import lr_schedule
    >>> f = lr_schedule.create_stepped_learning_rate_schedule(1.0, 10, [[1, 0.1], [2, 0.01]])
    >>> [round(float(f(s)), 4) for s in (0, 10, 11, 21)]
    [1.0, 1.0, 0.1, 0.01]
  """
  _log.warning(_DEPRECATION, 'create_stepped_learning_rate_schedule')
  # numpy (float64) arithmetic, as the reference: base * factor is rounded to float32 once,
  # when the table meets jnp (0.1 * 0.1 -> 0.01f, not 0.1f * 0.1f)
  epochs = np.asarray([entry[0] for entry in lr_sched_steps])
  boundaries = np.round(epochs * steps_per_epoch).astype(int)
  values = np.asarray([1.0] + [entry[1] for entry in lr_sched_steps]) * base_learning_rate

  def learning_rate_fn(step):
    index = jnp.sum(boundaries < step)
    lr = jnp.take(values, index)
    return _warmup(lr, step, warmup_length, steps_per_epoch)

  return learning_rate_fn


@set_module(_PUBLIC)
def create_cosine_learning_rate_schedule(
  base_learning_rate: float,
  steps_per_epoch: int,
  halfcos_epochs: float,
  warmup_length: float = 0.0,
) -> Callable:
  """Half a cosine wave from ``base_learning_rate`` down to 0, with optional warmup.

  Args:
    base_learning_rate: the learning rate at step 0 (before warmup).
    steps_per_epoch: iterations per epoch.
    halfcos_epochs: epochs until the learning rate reaches 0 (usually the
      length of training).
    warmup_length: if > 0, ramp linearly from 0 to 1 over that many epochs.

  Returns:
    ``f(step) -> lr``.

  Example:
    >>> from flaxen.training import lr_schedule
    >>> f = lr_schedule.create_cosine_learning_rate_schedule(1.0, 10, 2)
    >>> [round(float(f(s)), 4) for s in (0, 10, 20)]
    [1.0, 0.5, 0.0]
  """
  _log.warning(_DEPRECATION, 'create_cosine_learning_rate_schedule')
  halfwave_steps = halfcos_epochs * steps_per_epoch

  def learning_rate_fn(step):
    scale = jnp.cos(step * jnp.pi / halfwave_steps) * 0.5 + 0.5
    return _warmup(base_learning_rate * scale, step, warmup_length, steps_per_epoch)

  return learning_rate_fn
