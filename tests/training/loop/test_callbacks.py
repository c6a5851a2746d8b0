"""Callback plumbing and early stopping (with the replay that makes resume exact)."""

import math

import pytest

from flaxen._src.training.loop.callbacks import CallbackList
from flaxen.training.callbacks import Callback, EarlyStoppingCallback, FitContext
from flaxen.training.early_stopping import EarlyStopping


def records(values, key='eval_loss'):
  return [{'epoch': i, key: v} for i, v in enumerate(values, start=1)]


def run(stopper, values, key='eval_loss'):
  ctx = FitContext(epochs=len(values))
  stopper.on_train_begin(ctx)
  for record in records(values, key):
    if ctx.stopping:
      break
    ctx.epoch = record['epoch']
    stopper.on_epoch_end(ctx, record)
  return ctx


def test_early_stopping_follows_flaxen_early_stopping():
  ctx = run(EarlyStoppingCallback(patience=1), [1.0, 0.8, 0.9, 0.85, 0.1])
  assert ctx.epoch == 4  # 0.9 and 0.85 do not beat 0.8: the second miss stops
  assert ctx.stop_reason == ('early stopping: eval_loss has not improved for 2 epochs '
                             '(best 0.8 at epoch 2)')
  # the same decisions as the bare struct
  es = EarlyStopping(patience=1)
  for v in [1.0, 0.8, 0.9, 0.85]:
    es = es.update(v)
  assert es.should_stop


def test_min_delta_mode_max_and_nan():
  assert run(EarlyStoppingCallback(min_delta=0.1), [1.0, 0.95]).stopping
  assert not run(EarlyStoppingCallback(min_delta=0.01), [1.0, 0.95]).stopping
  ctx = run(EarlyStoppingCallback('eval_accuracy', mode='max'), [0.5, 0.9, 0.8],
            key='eval_accuracy')
  assert 'best 0.9 at epoch 2' in ctx.stop_reason
  assert run(EarlyStoppingCallback(), [1.0, math.nan]).stopping  # NaN never improves


def test_replay_on_resume_stops_where_the_uninterrupted_run_would():
  stopper = EarlyStoppingCallback(patience=1)
  ctx = FitContext(epochs=10)
  ctx.history = records([1.0, 0.8, 0.9, 0.85])  # restored epochs
  stopper.on_train_begin(ctx)
  assert ctx.stopping and 'at epoch 2' in ctx.stop_reason
  ctx = FitContext(epochs=10)
  ctx.history = records([1.0, 0.8, 0.9])
  stopper.on_train_begin(ctx)  # one miss so far: continue, and the next miss stops
  assert not ctx.stopping
  stopper.on_epoch_end(ctx, {'epoch': 4, 'eval_loss': 0.85})
  assert ctx.stopping


def test_errors():
  with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
    EarlyStoppingCallback(mode='up')
  with pytest.raises(ValueError, match=r"monitors 'eval_loss'.*one of \['train_loss'\]$"):
    run(EarlyStoppingCallback(), [1.0], key='train_loss')


def test_request_stop_keeps_the_first_reason():
  ctx = FitContext(epochs=1)
  assert not ctx.stopping
  ctx.request_stop('a')
  ctx.request_stop('b')
  assert ctx.stop_reason == 'a'


def test_callback_list_calls_in_order_and_always_ends():
  calls = []

  class Rec(Callback):
    def __init__(self, name, fail=False):
      self.name, self.fail = name, fail

    def on_epoch_begin(self, ctx):
      calls.append(self.name)

    def on_train_end(self, ctx):
      calls.append(f'end {self.name}')
      if self.fail:
        raise RuntimeError(self.name)

  cbs = CallbackList([Rec('a', fail=True), Rec('b')])
  ctx = FitContext(epochs=1)
  cbs.on_epoch_begin(ctx)
  with pytest.raises(RuntimeError, match='a'):
    cbs.end(ctx)
  assert calls == ['a', 'b', 'end a', 'end b']
  with pytest.raises(TypeError, match='Callback instances, got function'):
    CallbackList([lambda ctx: None])
