"""Callbacks: hooks into ``fit`` at its start, step ends, epoch ends and end.

``fit`` calls, on every callback in the order given:

  ``on_status(ctx, text)``     a phase begins (``'initializing model'``,
                               ``'compiling train step'``, ``'evaluating'``,
                               ``'saving checkpoint'``; ``''`` when it is over);
  ``on_message(ctx, text)``    an informational line (resumed from ..., stopped ...);
  ``on_train_begin(ctx)``      the state is ready (fresh or restored);
  ``on_epoch_begin(ctx)``      ``ctx.epoch`` is the epoch starting (from 1);
  ``on_step_end(ctx, metrics)`` after every step, with the batch's metrics as
                               device scalars (reading them waits for the step);
  ``on_epoch_end(ctx, record)`` with the epoch's record (the ``history`` entry),
                               before the epoch's checkpoint is written;
  ``on_train_end(ctx)``        always, also when training stops on an error
                               (``ctx.error`` is then set).

A callback stops training with ``ctx.request_stop(reason)``: after the current
step when called from ``on_step_end`` (the unfinished epoch is not recorded or
checkpointed), after the current epoch from ``on_epoch_end``, before the first
epoch from ``on_train_begin``.

``EarlyStoppingCallback`` drives ``flaxen.training.early_stopping.EarlyStopping``
with a metric of the history; on resume it replays the restored history, so it
stops at the same epoch an uninterrupted run would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.training.early_stopping import EarlyStopping

_PUBLIC = 'flaxen.training.callbacks'


@set_module(_PUBLIC)
class FitContext:
  """What callbacks see of a running ``fit`` call.

  Attributes:
    state: the current ``FitState`` (None before it is created).
    epoch: the epoch running (from 1), or the last finished one between epochs.
    epochs: the total number of epochs asked for.
    steps_per_epoch: batches per epoch when known in advance, else None.
    step: the number of optimizer steps taken so far.
    start_step: the step training started (or resumed) from.
    start_epoch: the finished epochs training started (or resumed) from.
    history: one record (a dict) per finished epoch, restored ones included.
    workdir: the run's directory, or None.
    stop_reason: why training stops early (set by ``request_stop``), or None.
    error: the exception that ended training, seen by ``on_train_end``.
  """

  def __init__(self, *, epochs: int, steps_per_epoch: int | None = None,
               workdir: str | None = None):
    self.state: Any = None
    self.epoch = 0
    self.epochs = epochs
    self.steps_per_epoch = steps_per_epoch
    self.step = 0
    self.start_step = 0
    self.start_epoch = 0
    self.history: list[dict[str, Any]] = []
    self.workdir = workdir
    self.stop_reason: str | None = None
    self.error: BaseException | None = None

  def request_stop(self, reason: str) -> None:
    """Asks ``fit`` to stop (see the module docstring); the first reason is kept."""
    if self.stop_reason is None:
      self.stop_reason = reason

  @property
  def stopping(self) -> bool:
    """Whether a callback asked training to stop."""
    return self.stop_reason is not None


@set_module(_PUBLIC)
class Callback:
  """Base class of ``fit`` callbacks: override the hooks you need (all do nothing)."""

  def on_status(self, ctx: FitContext, text: str) -> None:
    """A phase of the run begins (``text``), or ends (``''``)."""

  def on_message(self, ctx: FitContext, text: str) -> None:
    """An informational line from the loop."""

  def on_train_begin(self, ctx: FitContext) -> None:
    """The state is ready; ``ctx.history`` holds the restored epochs."""

  def on_epoch_begin(self, ctx: FitContext) -> None:
    """Epoch ``ctx.epoch`` starts."""

  def on_step_end(self, ctx: FitContext, metrics: dict[str, Any]) -> None:
    """Step ``ctx.step`` is done; ``metrics`` holds the batch's device scalars."""

  def on_epoch_end(self, ctx: FitContext, record: dict[str, Any]) -> None:
    """Epoch ``ctx.epoch`` is done; ``record`` is its history entry."""

  def on_train_end(self, ctx: FitContext) -> None:
    """Training is over (``ctx.error`` tells whether it failed)."""


class CallbackList:
  """Calls a hook on every callback in order; ``on_train_end`` reaches all of them."""

  def __init__(self, callbacks: Sequence[Callback]):
    for cb in callbacks:
      if not isinstance(cb, Callback):
        raise TypeError(f'callbacks must be flaxen.training.callbacks.Callback instances, '
                        f'got {type(cb).__name__}')
    self.callbacks = list(callbacks)

  def __getattr__(self, hook: str):
    if not hook.startswith('on_'):
      raise AttributeError(hook)

    def call(*args: Any) -> None:
      for cb in self.callbacks:
        getattr(cb, hook)(*args)

    return call

  def end(self, ctx: FitContext) -> None:
    """``on_train_end`` on every callback, re-raising the first failure afterwards."""
    first = None
    for cb in self.callbacks:
      try:
        cb.on_train_end(ctx)
      except Exception as e:  # the others must still clean up
        first = first or e
    if first is not None:
      raise first


@set_module(_PUBLIC)
class EarlyStoppingCallback(Callback):
  """Stops ``fit`` once a metric of the epoch history stops improving.

  Uses ``flaxen.training.early_stopping.EarlyStopping``: an epoch improves when
  the metric beats the best one by more than ``min_delta``; training stops after
  the epoch that makes ``patience + 1`` epochs in a row without improvement.

  Args:
    monitor: a key of the epoch records, e.g. ``'eval_loss'``, ``'eval_accuracy'``,
      ``'train_loss'``.
    patience: epochs without improvement tolerated.
    min_delta: the smallest change that counts as an improvement.
    mode: ``'min'`` (lower is better) or ``'max'`` (higher is better).
    early_stopping: an ``EarlyStopping`` to start from instead of
      ``EarlyStopping(min_delta, patience)``.

  Example:
    >>> from flaxen.training.callbacks import EarlyStoppingCallback, FitContext
    >>> stopper = EarlyStoppingCallback('eval_accuracy', patience=1, mode='max')
    >>> ctx = FitContext(epochs=10)
    >>> stopper.on_train_begin(ctx)
    >>> for epoch, acc in enumerate([0.5, 0.7, 0.7, 0.6], start=1):
    ...   stopper.on_epoch_end(ctx, {'epoch': epoch, 'eval_accuracy': acc})
    >>> ctx.stop_reason
    'early stopping: eval_accuracy has not improved for 2 epochs (best 0.7 at epoch 2)'
  """

  def __init__(self, monitor: str = 'eval_loss', patience: int = 0, min_delta: float = 0.0,
               mode: str = 'min', early_stopping: EarlyStopping | None = None):
    if mode not in ('min', 'max'):
      raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    self.monitor = monitor
    self.mode = mode
    self.initial = early_stopping or EarlyStopping(min_delta=min_delta, patience=patience)
    self.early_stopping = self.initial
    self.best_epoch: int | None = None

  def _update(self, record: dict[str, Any]) -> None:
    if self.monitor not in record:
      known = sorted(k for k, v in record.items()
                     if isinstance(v, (int, float)) and k not in ('epoch', 'step'))
      raise ValueError(f'early stopping monitors {self.monitor!r}, which the epoch records '
                     f'lack; choose one of {known}')
    value = float(record[self.monitor])
    if math.isnan(value):
      value = math.inf  # a NaN never counts as an improvement
    signed = value if self.mode == 'min' else -value
    self.early_stopping = self.early_stopping.update(signed)
    if self.early_stopping.has_improved:
      self.best_epoch = record.get('epoch')

  def _check(self, ctx: FitContext) -> None:
    if not self.early_stopping.should_stop:
      return
    best = self.early_stopping.best_metric
    best = best if self.mode == 'min' else -best
    waited = self.early_stopping.patience_count
    ctx.request_stop(
      f'early stopping: {self.monitor} has not improved for {waited} epoch'
      f'{"s" if waited != 1 else ""} (best {best:.6g} at epoch {self.best_epoch})'
    )

  def on_train_begin(self, ctx: FitContext) -> None:
    self.early_stopping, self.best_epoch = self.initial, None
    for record in ctx.history:
      self._update(record)
    self._check(ctx)

  def on_epoch_end(self, ctx: FitContext, record: dict[str, Any]) -> None:
    self._update(record)
    self._check(ctx)
