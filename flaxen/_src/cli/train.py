"""``flaxen train``: the command's training job, built on the public training loop.

Everything here goes through objects that ``flaxen.training`` exports (``fit``,
``ArrayBatches``, the callbacks and metric writers, ``checkpoints``): the CLI is
one user of the public API, not a second loop.

Steps: show the progress bar at once (``loading data``), load the data and the
model, refuse ``--epochs 0`` on a work directory without a checkpoint, compare
the settings with the saved ``run.json`` when resuming, build the Optax
transformation (``optax.inject_hyperparams``, so the learning rate is logged; the
other hyper-parameters stay Python numbers, so the numerics equal plain
``optax.adam``), then ``fit``. Every expected failure becomes one line and an
exit status (2: usage or input problem, 1: the run failed, 130: interrupted).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, TextIO

import optax

from flaxen._src.cli import data as data_lib
from flaxen._src.cli.models import ModelError, load_model
from flaxen._src.cli.options import UsageError, print_error
from flaxen._src.training.checkpoints import available_steps
from flaxen._src.training.loop.batches import ArrayBatches
from flaxen._src.training.loop.callbacks import Callback, EarlyStoppingCallback, FitContext
from flaxen._src.training.loop.fit import TrainingDivergedError, fit
from flaxen._src.training.loop.metric_writers import (
  TensorBoardWriter,
  WriteMetrics,
  create_default_writer,
)
from flaxen._src.training.loop.plot import PlotHistory
from flaxen._src.training.loop.progress import ProgressBar
from flaxen._src.training.loop.workdir import WorkdirError

USAGE, FAILED, INTERRUPTED = 2, 1, 130
EVAL_BATCH = 500
RUN_FILE = 'run.json'
_STATIC = {
  'adam': ('b1', 'b2', 'eps', 'eps_root'),
  'adamw': ('b1', 'b2', 'eps', 'eps_root', 'weight_decay'),
  'sgd': ('momentum', 'nesterov'),
}


@functools.lru_cache(maxsize=32)
def make_optimizer(name: str, lr: float, momentum: float, weight_decay: float,
                   schedule: str, warmup_steps: int, total_steps: int
                   ) -> optax.GradientTransformation:
  """The Optax transformation of the settings; one shared object per setting.

  (``tx`` is static in the train state: equal runs in one process then share
  one compiled train step.)
  """
  rate: Any = lr
  if schedule == 'cosine':
    rate = optax.cosine_decay_schedule(lr, decay_steps=max(total_steps, 1))
  elif schedule == 'warmup-cosine':
    rate = optax.warmup_cosine_decay_schedule(0.0, lr, warmup_steps,
                                              max(total_steps, warmup_steps + 1))
  extra = {'adam': {}, 'adamw': {'weight_decay': weight_decay},
           'sgd': {'momentum': momentum}}[name]
  factory = {'adam': optax.adam, 'adamw': optax.adamw, 'sgd': optax.sgd}[name]
  return optax.inject_hyperparams(factory, static_args=_STATIC[name])(learning_rate=rate,
                                                                      **extra)


def run_settings(s: dict[str, Any], dataset: data_lib.Dataset) -> dict[str, Any]:
  """What a resumed run must share with the saved one (``run.json``)."""
  info = {
    'model': s['model'], 'model_kwargs': s['model_kwargs'], 'data': dataset.name,
    'image_shape': list(dataset.image_shape), 'num_train': int(dataset.train_labels.shape[0]),
    'num_classes': dataset.num_classes, 'batch_size': s['batch_size'],
    'optimizer': s['optimizer'], 'learning_rate': s['lr'], 'schedule': s['schedule'],
    'clip_grad_norm': s['clip_grad_norm'], 'seed': s['seed'],
  }
  if s['optimizer'] == 'sgd':
    info['momentum'] = s['momentum']
  if s['optimizer'] == 'adamw':
    info['weight_decay'] = s['weight_decay']
  if s['schedule'] != 'constant':  # the schedule's length depends on the total epochs
    info['epochs'] = s['epochs']
    if s['schedule'] == 'warmup-cosine':
      info['warmup_epochs'] = s['warmup_epochs']
  return info


def check_run_file(workdir: str, info: dict[str, Any]) -> None:
  """Raises ``UsageError`` listing every setting that differs from the saved run."""
  path = os.path.join(workdir, RUN_FILE)
  if not os.path.exists(path):
    return
  try:
    with open(path) as f:
      saved = json.load(f)
  except (OSError, ValueError) as e:
    raise UsageError(f'{path} is unreadable ({e}); cannot check what was trained') from e
  diffs = [f'{k}: saved run {saved.get(k)!r}, now {info.get(k)!r}'
           for k in sorted(set(saved) | set(info)) if saved.get(k) != info.get(k)]
  if diffs:
    raise UsageError(f'cannot resume the run in {workdir}: its settings differ ('
                     + '; '.join(diffs) + '). Use the saved settings, or start a new run '
                     '(--overwrite or another --workdir).')


class _WriteRunFile(Callback):
  """Writes ``run.json`` once training begins (after ``fit`` accepted the workdir)."""

  def __init__(self, path: str, info: dict[str, Any]):
    self.path, self.info = path, info

  def on_train_begin(self, ctx: FitContext) -> None:
    with open(self.path, 'w') as f:
      json.dump(self.info, f, indent=2, sort_keys=True)
      f.write('\n')


def _label(spec: str) -> str:
  return spec.rpartition(':')[2].rpartition('.')[2].lower() if ':' in spec else spec


def _default_workdir(s: dict[str, Any]) -> str:
  data = 'digits' if s['data'] in (None, 'digits') else 'mnist'
  return os.path.join('runs', f'{_label(s["model"])}-{data}')


def _check_workdir(workdir: str, s: dict[str, Any]) -> None:
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise UsageError(f'--workdir {workdir} is a file, not a directory: choose another path')
  ckpts = os.path.join(workdir, 'checkpoints')
  has_checkpoint = os.path.isdir(ckpts) and bool(available_steps(ckpts))
  if s['epochs'] == 0 and not (s['resume'] and has_checkpoint):
    where = 'holds no checkpoint' if not has_checkpoint else 'is not resumed (--resume)'
    raise UsageError(f'--epochs 0 trains nothing and {workdir} {where}: give --epochs N '
                     f'with N >= 1')


def _train(s: dict[str, Any], bar: ProgressBar) -> tuple[Any, list[str]]:
  dataset = data_lib.load_dataset(s['data']).subset(s['train_subset'], s['test_subset'])
  model = load_model(s['model'], dataset.num_classes, s['model_kwargs'])
  workdir = s['workdir'] or _default_workdir(s)
  _check_workdir(workdir, s)
  n_train, n_test = dataset.train_labels.shape[0], dataset.test_labels.shape[0]
  if s['batch_size'] > n_train:
    raise UsageError(f'--batch-size {s["batch_size"]} is larger than the {n_train} '
                     f'training examples')
  train = ArrayBatches(dataset.train_images, dataset.train_labels, s['batch_size'],
                       seed=s['seed'])
  evals = ArrayBatches(dataset.test_images, dataset.test_labels, min(EVAL_BATCH, n_test),
                       shuffle=False)
  info = run_settings(s, dataset)
  if s['resume']:
    check_run_file(workdir, info)
  tx = make_optimizer(s['optimizer'], s['lr'], s['momentum'], s['weight_decay'], s['schedule'],
                      s['warmup_epochs'] * len(train), s['epochs'] * len(train))
  shape = 'x'.join(map(str, dataset.image_shape))
  bar.message(f'training {_label(s["model"])} on {dataset.name}: {n_train} train / {n_test} '
              f'test images of {shape}, batch {s["batch_size"]}, {s["optimizer"]} lr '
              f'{s["lr"]:g}, {s["epochs"]} epoch(s), workdir {workdir}')
  writer = create_default_writer(workdir, tensorboard=None if s['tensorboard'] else False)
  callbacks: list[Callback] = [
    bar, _WriteRunFile(os.path.join(workdir, RUN_FILE), info),
    WriteMetrics(writer, log_every=s['log_every'], hparams=info)]
  if s['patience'] is not None:
    callbacks.append(EarlyStoppingCallback('eval_loss', s['patience'], s['min_delta']))
  plot = None
  if s['plot']:
    plot = PlotHistory(os.path.join(workdir, 'loss.png'), f'{_label(s["model"])} on '
                       f'{dataset.name}')
    callbacks.append(plot)
  result = fit(model, tx, train, eval_data=evals, epochs=s['epochs'], seed=s['seed'],
               max_grad_norm=s['clip_grad_norm'], callbacks=callbacks,
               workdir=workdir, resume=s['resume'], overwrite=s['overwrite'], keep=s['keep'],
               writers=[])
  lines = []
  if result.history:
    last = result.history[-1]
    lines.append(f'done: step {last["step"]}, test accuracy {100 * last["eval_accuracy"]:.2f}% '
                 f'after {last["epoch"]} epoch(s)')
  if result.checkpoint:
    lines.append(f'checkpoint: {result.checkpoint}')
  lines.append(f'metrics: {os.path.join(workdir, "metrics.csv")}')
  if any(isinstance(w, TensorBoardWriter) for w in writer.writers):
    lines.append(f'tensorboard: tensorboard --logdir {os.path.join(workdir, "tensorboard")}')
  elif s['tensorboard']:
    lines.append("tensorboard skipped: tensorboardX is not installed "
                 "(pip install 'flaxen[tensorboard]')")
  if plot is not None and plot.written:
    lines.append(f'loss curve: {plot.written}')
  elif plot is not None and result.history:
    lines.append("loss curve skipped: matplotlib is not installed (pip install 'flaxen[plot]')")
  return result, lines


def run_train(s: dict[str, Any], *, prog: str = 'flaxen train', out: TextIO | None = None,
              err: TextIO | None = None, traceback: bool = False) -> int:
  """Runs the training job of the checked settings ``s``; returns the exit status.

  With ``traceback`` False, an unexpected exception (raised by the user's model,
  say) is also one line; True lets it propagate with its traceback.
  """
  bar = ProgressBar(s['progress'], out)
  bar.start('loading data')
  try:
    _, lines = _train(s, bar)
  except (UsageError, ModelError, WorkdirError, data_lib.DataError,
          data_lib.MissingExtraError) as e:
    bar.close()
    print_error(prog, e, err)
    return USAGE
  except TrainingDivergedError as e:
    bar.close()
    print_error(prog, e, err)
    return FAILED
  except OSError as e:
    bar.close()
    where = f'{e.filename}: ' if e.filename else ''
    print_error(prog, f'{where}{e.strerror or e}', err)
    return FAILED
  except KeyboardInterrupt:
    bar.close()
    print_error(prog, 'interrupted; run again with --resume to continue from the last '
                'finished epoch', err)
    return INTERRUPTED
  except Exception as e:
    bar.close()
    if traceback:
      raise
    first = (str(e).strip().splitlines() or [''])[0]
    print_error(prog, f'{type(e).__name__}: {first} (add --traceback to see where)', err)
    return FAILED
  bar.close()
  for line in lines:
    bar.message(line)
  return 0
