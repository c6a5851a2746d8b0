"""``fit``: train any Linen module with any Optax transformation, resumably.

Order of one run:
  1. arguments and the work directory are checked before anything compiles;
  2. the model is initialized on the first training batch (or ``sample_input``)
     with its evaluation-mode keyword arguments; every collection it creates
     other than ``params`` (and ``intermediates``) is carried as model state;
  3. with ``resume``, the newest checkpoint replaces the fresh state and the
     history of its finished epochs is read back;
  4. per epoch: the jitted train step over the epoch's batches, the NaN/inf
     guard, the evaluation, the epoch record (``history``), the callbacks'
     ``on_epoch_end`` and then the checkpoint.

The NaN/inf guard reads each step's ``finite`` flag one step late (so the host
does not wait for every step) and raises ``TrainingDivergedError``; nothing from
the diverged step on is saved.

Bit-identical resume: the checkpoint holds the whole ``FitState`` (parameters,
optimizer state, model state, RNG, step, epoch); the per-step RNGs depend on
the step alone; batch sources that depend only on the epoch (``ArrayBatches``,
callables) give the same batches again. A run stopped at any point and resumed
ends with the same bits as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flaxen._src.public import set_module
from flaxen._src.training.loop import objectives
from flaxen._src.training.loop.batches import BatchSource, split_batch
from flaxen._src.training.loop.callbacks import Callback, CallbackList, FitContext
from flaxen._src.training.loop.metric_writers import (
  MetricWriter,
  WriteMetrics,
  create_default_writer,
)
from flaxen._src.training.loop.state import (
  FitState,
  carried_collections,
  create_state,
  init_rngs,
)
from flaxen._src.training.loop.steps import (
  StepSpec,
  frozen_kwargs,
  learning_rate,
  mode_kwargs,
  run_eval,
  train_step,
)
from flaxen._src.training.loop.workdir import Workdir

_log = logging.getLogger('flaxen.training.loop')
_PUBLIC = 'flaxen.training.loop'


@set_module(_PUBLIC)
class TrainingDivergedError(FloatingPointError):
  """The loss or the gradient norm became NaN or infinite; training stopped.

  Attributes:
    step: the step (1-based) whose loss or gradient was not finite.
    epoch: the epoch of that step.
    metric: ``'loss'`` or ``'grad_norm'``.
    value: the value found (``nan``, ``inf`` or ``-inf``).
  """

  def __init__(self, message: str, *, step: int, epoch: int, metric: str, value: float):
    super().__init__(message)
    self.step, self.epoch, self.metric, self.value = step, epoch, metric, value


@set_module(_PUBLIC)
@dataclasses.dataclass
class FitResult:
  """What ``fit`` returns.

  Attributes:
    state: the final ``FitState``.
    history: one record per finished epoch (restored ones included): ``epoch``,
      ``step``, ``train_loss``, ``train_<metric>``, ``eval_loss``,
      ``eval_<metric>``, ``learning_rate`` (the rate of the epoch's last step, when
      ``tx`` exposes it), ``seconds`` and ``steps_per_second`` (compilation excluded).
    start_step: the step training started from (0 unless resumed).
    checkpoint: the path of the last checkpoint written, or None.
    stop_reason: why training stopped before ``epochs``, or None.
  """

  state: FitState
  history: list[dict[str, Any]]
  start_step: int = 0
  checkpoint: str | None = None
  stop_reason: str | None = None


def _check_args(model: Any, tx: Any, epochs: Any, keep: Any, max_grad_norm: Any,
                steps_per_epoch: Any) -> None:
  if not (hasattr(model, 'init') and hasattr(model, 'apply')):
    raise TypeError(f'model must be a Linen module (with init and apply), '
                    f'got {type(model).__name__}')
  if not (hasattr(tx, 'init') and hasattr(tx, 'update')):
    raise TypeError(f'tx must be an optax.GradientTransformation, got {type(tx).__name__}')
  for name, value, low in (('epochs', epochs, 0), ('keep', keep, 1)):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
      raise ValueError(f'{name} must be an integer >= {low}, got {value!r}')
  if steps_per_epoch is not None and (not isinstance(steps_per_epoch, (int, np.integer))
                                      or steps_per_epoch < 1):
    raise ValueError(f'steps_per_epoch must be a positive integer, got {steps_per_epoch!r}')
  if max_grad_norm is not None and not (math.isfinite(max_grad_norm) and max_grad_norm > 0):
    raise ValueError(f'max_grad_norm must be a finite positive number, got {max_grad_norm!r}')


def _known_steps(data: Any, steps_per_epoch: int | None) -> int | None:
  try:
    n = len(data)
  except TypeError:
    return steps_per_epoch
  return n if steps_per_epoch is None else min(n, steps_per_epoch)


def _writer_callbacks(writers: Any, workdir: str | None, log_every: int | None) -> list:
  if writers is None:
    writers = [create_default_writer(workdir)] if workdir is not None else []
  elif isinstance(writers, MetricWriter):
    writers = [writers]
  return [WriteMetrics(w, log_every=log_every) for w in writers]


def _as_args(sample_input: Any) -> tuple:
  return tuple(sample_input) if isinstance(sample_input, tuple) else (sample_input,)


class _Guard:
  """The NaN/inf guard: checks a step's ``finite`` flag when the next step is queued."""

  def __init__(self, enabled: bool, workdir: Workdir | None):
    self.enabled = enabled
    self.workdir = workdir
    self.pending: tuple[dict[str, Any], int, int] | None = None

  def push(self, metrics: dict[str, Any], step: int, epoch: int) -> None:
    if self.enabled:
      self.check()
      self.pending = (metrics, step, epoch)

  def check(self) -> None:
    if self.pending is None:
      return
    metrics, step, epoch = self.pending
    self.pending = None
    if bool(metrics['finite']):
      return
    loss = float(metrics['loss'])
    metric, value = ('loss', loss) if not math.isfinite(loss) else (
      'grad_norm', float(metrics['grad_norm']))
    what = 'the loss' if metric == 'loss' else 'the gradient norm'
    saved = self.workdir.steps() if self.workdir is not None else []
    # (saved is empty without a workdir)
    last = (f'the last checkpoint is step {saved[-1]} in {self.workdir.checkpoints}'  # type: ignore[union-attr]
            if saved else 'no checkpoint was written')
    raise TrainingDivergedError(
      f'training diverged: {what} is {value} at step {step} (epoch {epoch}); nothing from '
      f'that step on was saved and {last}. Lower the learning rate, clip the gradients '
      f'(max_grad_norm, --clip-grad-norm) or check the data of that step.',
      step=step, epoch=epoch, metric=metric, value=value)


def _means(step_metrics: list[dict[str, Any]], names: Sequence[str]) -> dict[str, float]:
  host = jax.device_get(step_metrics)
  counts = np.array([np.float64(m['count']) for m in host])
  total = counts.sum()
  return {k: float(np.dot([np.float64(m[k]) for m in host], counts) / total) for k in names}


@set_module(_PUBLIC)
def fit(model: Any, tx: optax.GradientTransformation, train_data: Any, *, epochs: int = 1,
        eval_data: Any = None, loss: Any = 'cross_entropy',
        metrics: Mapping[str, Any] | None = None, seed: int = 0,
        steps_per_epoch: int | None = None, sample_input: Any = None,
        train_kwargs: Mapping[str, Any] | None = None,
        eval_kwargs: Mapping[str, Any] | None = None,
        rng_streams: Sequence[str] = ('dropout',), max_grad_norm: float | None = None,
        nan_guard: bool = True, callbacks: Sequence[Callback] = (),
        workdir: str | None = None, resume: bool = False, overwrite: bool = False,
        keep: int = 3, checkpoint_format: str = 'msgpack', writers: Any = None,
        log_every: int | None = None) -> FitResult:
  """Trains ``model`` with ``tx`` on ``train_data``; see ``flaxen.training.loop``.

  Args:
    model: a Linen module (any object with ``init`` and ``apply``).
    tx: the Optax transformation; a learning-rate schedule goes inside it
      (``optax.adam(optax.cosine_decay_schedule(...))``); wrapped in
      ``optax.inject_hyperparams`` its current learning rate is also recorded.
    train_data: a batch source: a callable ``epoch -> batches`` (``ArrayBatches``),
      a re-iterable of batches, or a one-shot iterator with ``steps_per_epoch``.
      A batch is ``(inputs, targets[, weights])`` or a mapping with those keys.
    epochs: the total number of epochs (a resumed run stops there too).
    eval_data: a re-iterable batch source evaluated after every epoch, or None.
    loss: ``'cross_entropy'`` (integer labels; adds ``accuracy``), ``'mse'``, or a
      function ``(outputs, targets) -> per-example losses``.
    metrics: ``{name: (outputs, targets) -> per-example values}``; default: the
      metrics of a named loss.
    seed: seeds initialization (``params`` key ``PRNGKey(seed)``) and the per-step RNGs.
    steps_per_epoch: batches per epoch; needed for a one-shot iterator, a cap otherwise.
    sample_input: the model's input for ``init`` (default: the first batch's inputs).
    train_kwargs, eval_kwargs: keyword arguments of the model call when training
      and evaluating; default: ``train=True``/``False`` (or ``training``,
      ``deterministic=False``/``True``) when ``__call__`` takes such a parameter.
    rng_streams: RNG streams given to every training call (``make_rng`` names).
    max_grad_norm: clip the gradients to this global norm before ``tx``.
    nan_guard: stop with ``TrainingDivergedError`` when the loss or the gradient
      norm is not finite.
    callbacks: ``flaxen.training.callbacks.Callback`` objects, called in order.
    workdir: where checkpoints, the epoch history and the metric files go (None:
      nothing is written).
    resume: continue from the newest checkpoint in ``workdir`` (a fresh start if
      there is none).
    overwrite: a fresh run may replace the run already in ``workdir``.
    keep: the number of newest checkpoints kept.
    checkpoint_format: ``'msgpack'`` (default) or ``'orbax'``, whatever
      ``flax_use_orbax_checkpointing`` says.
    writers: ``MetricWriter`` (or a list); default: ``create_default_writer(workdir)``
      when there is a workdir (CSV, plus TensorBoard when tensorboardX is installed).
    log_every: also write the batch loss every this many steps.

  Returns:
    A ``FitResult``.

  Raises:
    WorkdirError: the work directory cannot be used as asked.
    TrainingDivergedError: the NaN/inf guard fired.
    ValueError, TypeError: bad arguments or batches.

  Example:
    >>> import jax.numpy as jnp, optax
    >>> from flaxen import linen as nn
    >>> from flaxen.training.loop import ArrayBatches, fit
    >>> x, y = jnp.eye(4), jnp.arange(4)
    >>> result = fit(nn.Dense(4), optax.adam(0.1), ArrayBatches(x, y, 2), epochs=20,
    ...              eval_data=ArrayBatches(x, y, 4, shuffle=False))
    >>> [result.history[-1][k] for k in ('epoch', 'step', 'eval_accuracy')]
    [20, 40, 1.0]
  """
  _check_args(model, tx, epochs, keep, max_grad_norm, steps_per_epoch)
  loss_fn, metric_fns = objectives.resolve(loss, metrics)
  source = BatchSource(train_data, steps_per_epoch, 'train_data')
  evals = None if eval_data is None else BatchSource(eval_data, None, 'eval_data', True)
  run = None if workdir is None else Workdir(workdir, checkpoint_format)
  if run is not None:  # work-directory problems surface before any compilation
    run.prepare(resume=resume, overwrite=overwrite)
  cbs = CallbackList([*_writer_callbacks(writers, workdir, log_every), *callbacks])
  ctx = FitContext(epochs=int(epochs), steps_per_epoch=_known_steps(train_data, steps_per_epoch),
                   workdir=None if run is None else run.path)
  try:
    cbs.on_status(ctx, 'initializing model')
    args = _as_args(sample_input) if sample_input is not None else split_batch(source.first())[0]
    auto_train, auto_eval = mode_kwargs(model)
    spec = StepSpec(
      loss=loss_fn, metrics=metric_fns,
      train_kwargs=frozen_kwargs(auto_train if train_kwargs is None else train_kwargs,
                                 'train_kwargs'),
      eval_kwargs=frozen_kwargs(auto_eval if eval_kwargs is None else eval_kwargs,
                                'eval_kwargs'),
      streams=tuple(rng_streams))
    carried = carried_collections(model, init_rngs(seed, spec.streams), args, spec.eval_kwargs)
    spec = dataclasses.replace(spec, carried=carried)
    if max_grad_norm is not None:
      tx = optax.chain(optax.clip_by_global_norm(max_grad_norm), tx)
    state = create_state(model, tx, args, seed=seed, init_kwargs=spec.eval_kwargs,
                         streams=spec.streams, carried=carried)
    state = _restore(run, state, ctx, cbs) if run is not None and resume else state
    if run is not None:
      run.write_history(ctx.history)
    ctx.state, ctx.step = state, int(np.asarray(state.step))
    ctx.start_step, ctx.epoch = ctx.step, ctx.start_epoch
    source.skip(ctx.start_step)
    cbs.on_status(ctx, '')
    cbs.on_train_begin(ctx)
    checkpoint = _epochs(ctx, cbs, spec, source, evals, run, keep, nan_guard)
  except BaseException as e:
    ctx.error = e
    raise
  finally:
    try:
      cbs.end(ctx)
    except Exception:
      if ctx.error is None:
        raise
  return FitResult(ctx.state, ctx.history, ctx.start_step, checkpoint, ctx.stop_reason)


def _message(ctx: FitContext, cbs: CallbackList, text: str) -> None:
  _log.info('%s', text)
  cbs.on_message(ctx, text)


def _restore(run: Workdir, state: FitState, ctx: FitContext, cbs: CallbackList) -> FitState:
  restored = run.restore(state)
  if restored is None:
    _message(ctx, cbs, f'no checkpoint in {run.checkpoints}: starting from scratch')
    return state
  ctx.start_epoch = int(np.asarray(restored.epoch))
  ctx.history = run.read_history(ctx.start_epoch)
  step = int(np.asarray(restored.step))
  _message(ctx, cbs, f'resumed from {run.checkpoints} at step {step} (epoch {ctx.start_epoch})')
  return restored


def _epochs(ctx: FitContext, cbs: CallbackList, spec: StepSpec, source: BatchSource,
            evals: BatchSource | None, run: Workdir | None, keep: int,
            nan_guard: bool) -> str | None:
  """The epoch loop; returns the path of the last checkpoint written."""
  checkpoint = None
  if ctx.start_epoch >= ctx.epochs and not ctx.stopping:
    _message(ctx, cbs, f'already trained for {ctx.start_epoch} epoch(s); nothing to do')
  guard = _Guard(nan_guard, run)
  compile_seconds = None
  names = ['loss', *(name for name, _ in spec.metrics)]
  for epoch in range(ctx.start_epoch + 1, ctx.epochs + 1):
    if ctx.stopping:
      break
    ctx.epoch = epoch
    cbs.on_epoch_begin(ctx)
    started, step_metrics, finished = time.perf_counter(), [], True
    excluded = 0.0
    for batch in source.epoch(epoch):
      first = compile_seconds is None
      if first:
        cbs.on_status(ctx, 'compiling train step')
        t0 = time.perf_counter()
      state, m = train_step(spec, ctx.state, batch)
      if first:
        jax.block_until_ready(m)
        compile_seconds = excluded = time.perf_counter() - t0
        cbs.on_status(ctx, '')
        _message(ctx, cbs, f'first step (with compilation) took {compile_seconds:.2f}s')
      ctx.state, ctx.step = state, ctx.step + 1
      guard.push(m, ctx.step, epoch)
      step_metrics.append(m)
      cbs.on_step_end(ctx, m)
      if ctx.stopping:
        finished = False
        break
    guard.check()
    if not step_metrics:
      raise ValueError(f'train_data yielded no batch in epoch {epoch}')
    if not finished:
      break
    train_seconds = time.perf_counter() - started
    record: dict[str, Any] = {'epoch': epoch, 'step': ctx.step}
    record.update({f'train_{k}': v for k, v in _means(step_metrics, names).items()})
    if evals is not None:
      cbs.on_status(ctx, 'evaluating')
      results = run_eval(spec, ctx.state.apply_fn, ctx.state.variables(), evals, epoch)
      record.update({f'eval_{k}': v for k, v in results.items()})
    lr = learning_rate(ctx.state.opt_state)
    if lr is not None:
      record['learning_rate'] = float(lr)
    timed_steps = len(step_metrics) - (1 if excluded else 0)
    timed = train_seconds - excluded
    record['seconds'] = time.perf_counter() - started
    record['steps_per_second'] = timed_steps / timed if timed_steps and timed > 0 else 0.0
    ctx.state = ctx.state.replace(epoch=jnp.asarray(epoch, jnp.int32))
    ctx.history.append(record)
    if run is not None:
      run.append_history(record)
    cbs.on_epoch_end(ctx, record)
    if run is not None:
      cbs.on_status(ctx, 'saving checkpoint')
      checkpoint = run.save(ctx.state, ctx.step, keep)
    cbs.on_status(ctx, '')
  if ctx.stopping:
    _message(ctx, cbs, ctx.stop_reason)  # type: ignore[arg-type]  # stopping: a reason is set
  return checkpoint
