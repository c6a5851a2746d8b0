"""``fit`` end to end: bit-identical resume, guards, early stopping, callbacks, sources."""

import io
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import linen as nn
from flaxen.training import fit as fit_reexport
from flaxen.training.callbacks import Callback, EarlyStoppingCallback, ProgressBar
from flaxen.training.loop import (
  ArrayBatches,
  FitResult,
  TrainingDivergedError,
  WorkdirError,
  fit,
)
from flaxen.training.metric_writers import read_csv

TX = optax.adam(0.02)  # one object: every fit below shares its compiled steps
TIMING = ('seconds', 'steps_per_second')


def untimed(history):
  return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


class StopAt(Callback):
  """Raises ``KeyboardInterrupt`` after global step ``step`` (a user pressing Ctrl-C)."""

  def __init__(self, step):
    self.step = step

  def on_step_end(self, ctx, metrics):
    if ctx.step == self.step:
      raise KeyboardInterrupt


def norm_drop_run(helpers, toy, workdir, **kwargs):
  x, y = toy
  kwargs.setdefault('epochs', 3)
  return fit(helpers.NormDrop(), TX, ArrayBatches(x, y, 8, seed=1),
             eval_data=ArrayBatches(x, y, 20, shuffle=False), seed=5, workdir=str(workdir),
             **kwargs)


@pytest.mark.parametrize('interrupt', ['mid-epoch', 'between-epochs'])
def test_resume_is_bit_identical_with_batchnorm_and_dropout(helpers, toy, tmp_path, interrupt):
  straight = norm_drop_run(helpers, toy, tmp_path / 'straight')
  work = tmp_path / 'stopped'
  if interrupt == 'mid-epoch':
    with pytest.raises(KeyboardInterrupt):
      norm_drop_run(helpers, toy, work, callbacks=[StopAt(6 + 4)])  # epoch 2, batch 4 of 6
  else:
    norm_drop_run(helpers, toy, work, epochs=1)
  resumed = norm_drop_run(helpers, toy, work, resume=True)
  assert resumed.start_step == 6  # the last epoch-end checkpoint
  assert helpers.leaves_equal(resumed.state, straight.state)
  assert untimed(resumed.history) == untimed(straight.history)
  # the run really used both: batch statistics moved, dropout changed the result
  stats = resumed.state.model_state['batch_stats']['BatchNorm_0']
  assert float(jnp.abs(stats['mean']).sum()) > 0
  x, y = toy
  no_dropout = fit(helpers.NormDrop(rate=0.0), TX, ArrayBatches(x, y, 8, seed=1), epochs=3,
                   seed=5)
  assert not helpers.leaves_equal(no_dropout.state.params, straight.state.params)


def test_fit_learns_and_records_history(helpers, toy):
  x, y = toy
  result = fit(helpers.Tiny(), TX, ArrayBatches(x, y, 8), epochs=6,
               eval_data=ArrayBatches(x, y, 20, shuffle=False))
  assert isinstance(result, FitResult) and fit_reexport is fit
  history = result.history
  assert [r['epoch'] for r in history] == list(range(1, 7))
  assert [r['step'] for r in history] == [6 * e for e in range(1, 7)]
  assert set(history[0]) == {'epoch', 'step', 'train_loss', 'train_accuracy', 'eval_loss',
                             'eval_accuracy', 'seconds', 'steps_per_second'}
  assert history[-1]['train_loss'] < history[0]['train_loss'] / 2
  assert history[-1]['eval_accuracy'] > 0.9
  assert int(result.state.step) == 36 and int(result.state.epoch) == 6
  assert result.checkpoint is None and result.stop_reason is None


def nan_batches(bad_epoch, bad_index):
  x, y = np.ones((4, 6), np.float32), np.zeros(4, np.int32)

  def batches(epoch):
    for i in range(3):
      yield (x * np.nan if (epoch, i) == (bad_epoch, bad_index) else x), y

  return batches


def test_nan_guard_stops_with_a_clear_message(helpers, tmp_path):
  with pytest.raises(TrainingDivergedError) as info:
    fit(helpers.Tiny(), TX, nan_batches(2, 1), epochs=3, workdir=str(tmp_path))
  e = info.value
  assert (e.step, e.epoch, e.metric) == (5, 2, 'loss') and np.isnan(e.value)
  assert isinstance(e, FloatingPointError)
  assert str(e).startswith('training diverged: the loss is nan at step 5 (epoch 2); nothing '
                           'from that step on was saved and the last checkpoint is step 3 in ')
  assert 'Lower the learning rate, clip the gradients' in str(e)
  assert '\n' not in str(e)
  assert sorted(p.name for p in (tmp_path / 'checkpoints').iterdir()
                if not p.name.startswith('.')) == ['checkpoint_3']
  with pytest.raises(TrainingDivergedError, match='no checkpoint was written'):
    fit(helpers.Tiny(), TX, nan_batches(1, 2), epochs=1)
  result = fit(helpers.Tiny(), TX, nan_batches(1, 2), epochs=1, nan_guard=False)
  assert np.isnan(result.history[0]['train_loss'])


def test_early_stopping_stops_and_resume_replays_it(helpers, toy, tmp_path):
  x, y = toy
  stream = io.StringIO()

  def run(epochs, resume=False):
    return fit(helpers.Tiny(), TX, ArrayBatches(x, y, 8), epochs=epochs,
               eval_data=ArrayBatches(x, y, 20, shuffle=False), workdir=str(tmp_path),
               resume=resume, callbacks=[EarlyStoppingCallback(min_delta=100.0),
                                         ProgressBar('plain', stream)])

  result = run(10)
  assert [r['epoch'] for r in result.history] == [1, 2]
  assert result.stop_reason.startswith('early stopping: eval_loss has not improved for 1 epoch')
  assert result.checkpoint.endswith('checkpoint_12')
  again = run(10, resume=True)
  assert len(again.history) == 2 and again.stop_reason == result.stop_reason
  assert int(again.state.step) == 12
  assert stream.getvalue().count('early stopping:') == 2


def test_callbacks_see_the_events_in_order(helpers, toy, tmp_path):
  x, y = toy
  events = []

  class Rec(Callback):
    def on_status(self, ctx, text):
      events.append(f'status {text}' if text else 'status done')

    def on_train_begin(self, ctx):
      events.append(f'begin {ctx.start_step} {ctx.state is not None}')

    def on_epoch_begin(self, ctx):
      events.append(f'epoch {ctx.epoch}')

    def on_step_end(self, ctx, metrics):
      events.append(f'step {ctx.step} {sorted(metrics)}')

    def on_epoch_end(self, ctx, record):
      events.append(f'end {record["epoch"]}')

    def on_train_end(self, ctx):
      events.append(f'train end {ctx.error is None}')

  fit(helpers.Tiny(), TX, ArrayBatches(x, y, 24), epochs=2, callbacks=[Rec()],
      eval_data=[(x, y)], workdir=str(tmp_path))
  keys = "['accuracy', 'count', 'finite', 'grad_norm', 'loss']"
  assert events == [
    'status initializing model', 'status done', 'begin 0 True',
    'epoch 1', 'status compiling train step', 'status done', f'step 1 {keys}',
    f'step 2 {keys}', 'status evaluating', 'end 1', 'status saving checkpoint', 'status done',
    'epoch 2', f'step 3 {keys}', f'step 4 {keys}', 'status evaluating', 'end 2',
    'status saving checkpoint', 'status done', 'train end True',
  ]


def test_stop_request_mid_epoch_keeps_only_finished_epochs(helpers, toy, tmp_path):
  x, y = toy

  class StopSoon(Callback):
    def on_step_end(self, ctx, metrics):
      if ctx.step == 8:
        ctx.request_stop('enough')

  result = fit(helpers.Tiny(), TX, ArrayBatches(x, y, 8), epochs=3, callbacks=[StopSoon()],
               workdir=str(tmp_path))
  assert [r['epoch'] for r in result.history] == [1] and result.stop_reason == 'enough'
  assert int(result.state.step) == 8 and result.checkpoint.endswith('checkpoint_6')


def test_one_shot_stream_resumes_by_skipping(helpers, toy, tmp_path):
  x, y = toy

  def stream():
    rng = np.random.default_rng(0)
    while True:
      idx = rng.integers(0, len(y), 8)
      yield x[idx], y[idx]

  straight = fit(helpers.Tiny(), TX, stream(), steps_per_epoch=4, epochs=2)
  fit(helpers.Tiny(), TX, stream(), steps_per_epoch=4, epochs=1, workdir=str(tmp_path))
  resumed = fit(helpers.Tiny(), TX, stream(), steps_per_epoch=4, epochs=2,
                workdir=str(tmp_path), resume=True)
  assert helpers.leaves_equal(resumed.state, straight.state)


def test_gradient_clipping(helpers, toy):
  x, y = toy
  sgd = optax.sgd(1.0)
  start = fit(helpers.Tiny(), sgd, [(x, y)], epochs=0).state.params
  clipped = fit(helpers.Tiny(), sgd, [(x, y)], epochs=1, max_grad_norm=1e-3)
  moved = jax.tree_util.tree_map(lambda a, b: a - b, clipped.state.params, start)
  norm = float(jnp.sqrt(sum(jnp.sum(d ** 2) for d in jax.tree_util.tree_leaves(moved))))
  assert norm == pytest.approx(1e-3, rel=1e-3)


def test_learning_rate_schedule_is_recorded(helpers, toy):
  x, y = toy
  schedule = optax.linear_schedule(0.1, 0.0, transition_steps=12)
  tx = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
  result = fit(helpers.Tiny(), tx, ArrayBatches(x, y, 8), epochs=2)
  # the rate the last step of each epoch used (steps 6 and 12 count from 0 to 5 and 11)
  assert [r['learning_rate'] for r in result.history] == [
    pytest.approx(float(schedule(5))), pytest.approx(float(schedule(11)))]


def test_workdir_files_match_the_history(helpers, toy, tmp_path):
  x, y = toy
  result = fit(helpers.Tiny(), TX, ArrayBatches(x, y, 8), epochs=2, workdir=str(tmp_path),
               log_every=4)
  rows = [r for r in read_csv(tmp_path / 'metrics.csv') if 'epoch' in r]
  assert rows == [{k: v for k, v in r.items()} for r in result.history]
  lines = (tmp_path / 'history.jsonl').read_text().splitlines()
  assert [json.loads(line) for line in lines] == result.history
  batch_rows = [r['step'] for r in read_csv(tmp_path / 'metrics.csv') if 'batch_loss' in r]
  assert batch_rows == [4, 8, 12]


def test_fresh_run_needs_overwrite_and_messages(helpers, toy, tmp_path):
  x, y = toy
  out = io.StringIO()

  def run(**kwargs):
    return fit(helpers.Tiny(), TX, ArrayBatches(x, y, 8), workdir=str(tmp_path),
               callbacks=[ProgressBar('plain', out)], **kwargs)

  run(resume=True)  # nothing to resume: a fresh start
  assert f'no checkpoint in {tmp_path}/checkpoints: starting from scratch' in out.getvalue()
  with pytest.raises(WorkdirError, match='already holds checkpoints'):
    run()
  run(resume=True)
  assert 'already trained for 1 epoch(s); nothing to do' in out.getvalue()
  assert int(run(overwrite=True).state.step) == 6


def test_mse_and_explicit_kwargs(toy):
  x, y = toy
  targets = np.stack([y, -y], axis=1).astype(np.float32)

  class Reg(nn.Module):
    @nn.compact
    def __call__(self, x, scale: float = 1.0):
      return scale * nn.Dense(2)(x)

  result = fit(Reg(), TX, ArrayBatches(x, targets, 8), epochs=4, loss='mse',
               train_kwargs={'scale': 2.0}, eval_kwargs={'scale': 2.0}, rng_streams=(),
               eval_data=ArrayBatches(x, targets, 48, shuffle=False))
  assert set(result.history[0]) >= {'train_loss', 'eval_loss'}
  assert 'train_accuracy' not in result.history[0]
  assert result.history[-1]['eval_loss'] < result.history[0]['eval_loss']


@pytest.mark.parametrize('kwargs,error,match', [
  ({'epochs': -1}, ValueError, 'epochs must be an integer >= 0'),
  ({'keep': 0}, ValueError, 'keep must be an integer >= 1'),
  ({'max_grad_norm': float('nan')}, ValueError, 'max_grad_norm must be a finite positive'),
  ({'steps_per_epoch': 0}, ValueError, 'steps_per_epoch must be a positive integer'),
  ({'checkpoint_format': 'zip', 'workdir': '.'}, ValueError, 'checkpoint_format must be one'),
  ({'tx': 'adam'}, TypeError, 'tx must be an optax.GradientTransformation'),
  ({'model': object()}, TypeError, 'model must be a Linen module'),
])
def test_argument_errors(helpers, toy, kwargs, error, match):
  x, y = toy
  args = {'model': helpers.Tiny(), 'tx': TX, 'train_data': [(x, y)], **kwargs}
  with pytest.raises(error, match=match):
    fit(args.pop('model'), args.pop('tx'), args.pop('train_data'), **args)
