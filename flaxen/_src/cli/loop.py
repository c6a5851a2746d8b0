"""The training loop of the CLI and examples: ``TrainState`` + Optax, jitted steps.

``fit(model, dataset, config, workdir=...)`` trains an image classifier with
softmax cross-entropy, one jitted ``train_step`` per full batch (the remainder
of an epoch is dropped, so every step has one shape and compiles once) and a
jitted ``eval_step`` over zero-padded, masked test batches. After every epoch it
reports train loss/accuracy (means over the epoch's steps) and test
loss/accuracy, saves a checkpoint of the whole ``TrainState`` and appends the
metrics to the work directory's log.

Resume invariant: batches depend only on ``(seed, epoch)`` and a checkpoint is
written at each epoch end, so resuming from epoch ``k`` continues with the same
``step``, parameters and optimizer state as the saved ones and reproduces the
uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flaxen._src.cli import data as data_lib
from flaxen._src.cli import plot as plot_lib
from flaxen._src.cli.progress import PlainReporter
from flaxen._src.cli.workdir import RunDir, RunError
from flaxen._src.training.train_state import TrainState

OPTIMIZERS = ('adam', 'sgd')


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Hyper-parameters of a run.

  Attributes:
    epochs: total number of epochs (a resumed run stops there too).
    batch_size: training examples per step.
    optimizer: ``'adam'`` or ``'sgd'`` (with ``momentum``).
    learning_rate: the optimizer's learning rate.
    momentum: SGD momentum (ignored by Adam).
    seed: seeds parameter initialization and the batch order.
    eval_batch_size: test examples per evaluation step.
    keep: number of newest checkpoints kept in the work directory.
    plot: write ``loss.png`` when matplotlib is installed.
  """

  epochs: int = 8
  batch_size: int = 32
  optimizer: str = 'adam'
  learning_rate: float = 3e-3
  momentum: float = 0.9
  seed: int = 0
  eval_batch_size: int = 500
  keep: int = 3
  plot: bool = True

  def validate(self) -> None:
    """Raises ``ValueError`` naming the first bad setting."""
    if self.epochs < 0:
      raise ValueError(f'epochs must be >= 0, got {self.epochs}')
    if self.batch_size < 1 or self.eval_batch_size < 1:
      raise ValueError(f'batch sizes must be positive, got {self.batch_size}, '
                       f'{self.eval_batch_size}')
    if self.optimizer not in OPTIMIZERS:
      raise ValueError(f'optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}')
    if not self.learning_rate > 0:
      raise ValueError(f'learning rate must be positive, got {self.learning_rate}')
    if self.keep < 1:
      raise ValueError(f'keep must be >= 1, got {self.keep}')


@dataclasses.dataclass(frozen=True)
class EpochMetrics:
  """Metrics of one finished epoch; accuracies are fractions in ``[0, 1]``."""

  epoch: int
  step: int
  train_loss: float
  train_accuracy: float
  test_loss: float
  test_accuracy: float
  seconds: float

  def line(self, total_epochs: int) -> str:
    """One human-readable line, as the CLI prints it."""
    return (
      f'epoch {self.epoch}/{total_epochs}  step {self.step}  '
      f'train loss {self.train_loss:.4f} acc {100 * self.train_accuracy:.2f}%  '
      f'test loss {self.test_loss:.4f} acc {100 * self.test_accuracy:.2f}%  '
      f'({self.seconds:.1f}s)'
    )

  def to_json(self) -> dict[str, Any]:
    return dataclasses.asdict(self)

  @classmethod
  def from_json(cls, record: dict[str, Any]) -> EpochMetrics:
    return cls(**{f.name: record[f.name] for f in dataclasses.fields(cls)})


@dataclasses.dataclass
class FitResult:
  """What ``fit`` returns.

  Attributes:
    state: the final ``TrainState``.
    history: metrics of every epoch of the run (restored ones included).
    start_step: the step training (re)started from (0 for a fresh run).
    checkpoint: path of the last checkpoint written, or None.
    plot: path of the loss-curve PNG, or None.
  """

  state: TrainState
  history: list[EpochMetrics]
  start_step: int
  checkpoint: str | None = None
  plot: str | None = None


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
  """The Optax transformation of ``config`` (one shared object per setting)."""
  momentum = config.momentum if config.optimizer == 'sgd' else None
  return _optimizer(config.optimizer, config.learning_rate, momentum)


@functools.lru_cache(maxsize=32)
def _optimizer(name: str, learning_rate: float, momentum: float | None):
  # Optax transformations are pure functions: sharing one per setting keeps the
  # static ``tx`` of equal runs equal, so their jitted steps compile once.
  if name == 'adam':
    return optax.adam(learning_rate)
  return optax.sgd(learning_rate, momentum)


@dataclasses.dataclass(frozen=True)
class ModelApply:
  """``model.apply`` as a value: equal for equal models, so jitted steps are reused.

  (Bound methods compare their ``self`` by identity; two equal models would
  each compile their own ``train_step``.)
  """

  model: Any

  def __call__(self, variables: Any, *args: Any, **kwargs: Any) -> Any:
    return self.model.apply(variables, *args, **kwargs)


@functools.partial(jax.jit, static_argnums=0)
def _init(model: Any, rng: Any, sample: Any) -> Any:
  # One compiled computation instead of one dispatch per initializer op; the
  # values are those of ``model.init`` run eagerly. Cached per (hashable) model.
  return model.init(rng, sample)


def create_train_state(model: Any, rng: Any, sample: Any,
                       tx: optax.GradientTransformation) -> TrainState:
  """Initializes ``model`` on ``sample`` and wraps its params in a ``TrainState``.

  Raises:
    RunError: the model creates collections other than ``params``.
  """
  # Tracing alone tells which collections init creates: refuse before compiling.
  extra = sorted(set(jax.eval_shape(model.init, rng, sample)) - {'params'})
  if extra:
    raise RunError(
      f'{type(model).__name__} creates the collection(s) {extra}; the CLI training loop '
      f"handles models with only a 'params' collection"
    )
  variables = _init(model, rng, sample)
  state = TrainState.create(apply_fn=ModelApply(model), params=variables['params'], tx=tx)
  # A (non-weak) int32 step, like the one restored from a checkpoint: fresh and
  # resumed states then share one compiled train_step.
  return state.replace(step=jnp.zeros((), jnp.int32))


def _loss_and_logits(state: TrainState, params: Any, images: Any, labels: Any):
  logits = state.apply_fn({'params': params}, images)
  losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  return losses, logits


@jax.jit
def train_step(state: TrainState, images: Any, labels: Any):
  """One optimizer step; returns ``(new_state, {'loss', 'accuracy'})`` of the batch."""

  def loss_fn(params):
    losses, logits = _loss_and_logits(state, params, images, labels)
    return jnp.mean(losses), logits

  (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
  accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == labels)
  return state.apply_gradients(grads=grads), {'loss': loss, 'accuracy': accuracy}


@jax.jit
def eval_step(state: TrainState, images: Any, labels: Any, mask: Any):
  """Masked sums over one padded batch: ``{'loss': sum, 'correct': sum, 'count': sum}``."""
  losses, logits = _loss_and_logits(state, state.params, images, labels)
  correct = (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)
  return {'loss': jnp.sum(losses * mask), 'correct': jnp.sum(correct * mask),
          'count': jnp.sum(mask)}


def evaluate(state: TrainState, images: np.ndarray, labels: np.ndarray,
             batch_size: int = 500) -> tuple[float, float]:
  """Mean loss and accuracy over all of ``images`` (no example dropped or repeated)."""
  if images.shape[0] == 0:
    raise ValueError('cannot evaluate on an empty test set')
  batch_size = min(batch_size, images.shape[0])
  sums = [eval_step(state, x, y, m) for x, y, m in data_lib.eval_batches(images, labels,
                                                                          batch_size)]
  totals = {k: float(np.sum([s[k] for s in jax.device_get(sums)])) for k in sums[0]}
  return totals['loss'] / totals['count'], totals['correct'] / totals['count']


def run_info(model: Any, model_name: str | None, dataset: data_lib.Dataset,
             config: TrainConfig) -> dict[str, Any]:
  """The settings a resumed run must share with the saved one (``run.json``)."""
  return {
    'model': model_name or type(model).__name__,
    'data': dataset.name,
    'image_shape': list(dataset.image_shape),
    'num_train': int(dataset.train_labels.shape[0]),
    'num_classes': dataset.num_classes,
    'batch_size': config.batch_size,
    'optimizer': config.optimizer,
    'learning_rate': config.learning_rate,
    'momentum': config.momentum if config.optimizer == 'sgd' else None,
    'seed': config.seed,
  }


def _resume(run: RunDir, state: TrainState, steps_per_epoch: int, reporter: PlainReporter):
  """Restores the newest checkpoint; returns ``(state, finished epochs, history)``."""
  restored = run.restore(state)
  if restored is state:
    reporter.message(f'no checkpoint in {run.checkpoints}: starting from scratch')
    return state, 0, []
  step = int(np.asarray(restored.step))
  if step % steps_per_epoch:
    raise RunError(
      f'the checkpoint at step {step} is not at an epoch end ({steps_per_epoch} steps per '
      f'epoch); it was not written by this training loop'
    )
  epoch = step // steps_per_epoch
  history = [EpochMetrics.from_json(r) for r in run.read_metrics(epoch)]
  reporter.message(f'resumed from {run.checkpoints} at step {step} (epoch {epoch})')
  return restored, epoch, history


def fit(model: Any, dataset: data_lib.Dataset, config: TrainConfig, *,
        workdir: str | None = None, resume: bool = False, overwrite: bool = False,
        reporter: PlainReporter | None = None, model_name: str | None = None) -> FitResult:
  """Trains ``model`` on ``dataset``; see the module docstring.

  Args:
    model: a Linen module mapping ``float32[B, H, W, C]`` to logits.
    dataset: the data.
    config: hyper-parameters.
    workdir: where checkpoints, metrics and the plot go (None: nothing is saved).
    resume: continue from the newest checkpoint in ``workdir`` (a fresh start if
      there is none).
    overwrite: a fresh run may replace the checkpoints already in ``workdir``.
    reporter: progress reporter (default: plain lines on stdout).
    model_name: name recorded in ``run.json`` (default: the class name).

  Returns:
    A ``FitResult``.

  Raises:
    RunError: the work directory cannot be used as asked (existing checkpoints,
      damaged or mismatched checkpoint, different settings).
    ValueError: bad settings or data.
  """
  config.validate()
  reporter = reporter if reporter is not None else PlainReporter()
  spe = data_lib.steps_per_epoch(dataset.train_labels.shape[0], config.batch_size)
  run = RunDir(workdir) if workdir is not None else None
  if run is not None:  # work-directory problems surface before any compilation
    info = run_info(model, model_name, dataset, config)
    if resume:
      run.check_info(info)
    else:
      run.start_fresh(overwrite)
  sample = jnp.zeros((1, *dataset.image_shape), jnp.float32)
  state = create_train_state(model, jax.random.PRNGKey(config.seed), sample,
                             make_optimizer(config))
  start_epoch, history = 0, []
  if run is not None:
    if resume:
      state, start_epoch, history = _resume(run, state, spe, reporter)
      run.write_metrics([h.to_json() for h in history])
    run.write_info(info)
  result = FitResult(state, history, start_step=int(np.asarray(state.step)))
  if start_epoch >= config.epochs:
    reporter.message(f'already trained for {start_epoch} epoch(s); nothing to do')
  else:
    result = _train_epochs(result, dataset, config, spe, start_epoch, run, reporter)
  if run is not None and config.plot and result.history:
    title = f'{info["model"]} on {dataset.name}'
    result.plot = plot_lib.save_loss_curve(result.history, run.plot_path, title)
  return result


def _train_epochs(result: FitResult, dataset: data_lib.Dataset, config: TrainConfig,
                  spe: int, start_epoch: int, run: RunDir | None,
                  reporter: PlainReporter) -> FitResult:
  state = result.state
  wants_loss = getattr(reporter, 'wants_loss', False)
  reporter.start(config.epochs, spe, start_epoch)
  try:
    for epoch in range(start_epoch + 1, config.epochs + 1):
      started = time.perf_counter()
      reporter.epoch_start(epoch, config.epochs)
      metrics = []
      batches = data_lib.train_batches(dataset.train_images, dataset.train_labels,
                                       config.batch_size, config.seed, epoch)
      for i, (images, labels) in enumerate(batches):
        state, step_metrics = train_step(state, images, labels)
        metrics.append(step_metrics)
        show = wants_loss and (i % 10 == 9 or i == spe - 1)
        reporter.step(float(step_metrics['loss']) if show else None)
      host = jax.device_get(metrics)
      test_loss, test_acc = evaluate(state, dataset.test_images, dataset.test_labels,
                                     config.eval_batch_size)
      record = EpochMetrics(
        epoch=epoch, step=int(np.asarray(state.step)),
        train_loss=float(np.mean([m['loss'] for m in host])),
        train_accuracy=float(np.mean([m['accuracy'] for m in host])),
        test_loss=test_loss, test_accuracy=test_acc,
        seconds=time.perf_counter() - started,
      )
      result.history.append(record)
      if run is not None:
        result.checkpoint = run.save(state, record.step, config.keep)
        run.append_metrics(record.to_json())
      reporter.epoch_end(record.line(config.epochs))
  finally:
    reporter.close()
  result.state = state
  return result
