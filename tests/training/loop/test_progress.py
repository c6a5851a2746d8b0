"""ProgressBar: plain lines off-terminal, a rich bar with status and steps/s on terminals."""

import io

import pytest
from rich.console import Console

from flaxen._src.training.loop import progress
from flaxen.training.callbacks import FitContext, ProgressBar


class FakeTTY(io.StringIO):
  def isatty(self):
    return True


RECORD = {'epoch': 2, 'step': 88, 'train_loss': 0.5, 'train_accuracy': 0.875,
          'eval_loss': 0.25, 'eval_accuracy': 0.9725, 'learning_rate': 0.003,
          'seconds': 1.25, 'steps_per_second': 350.4}


def drive(bar, statuses=('initializing model', 'compiling train step', '')):
  ctx = FitContext(epochs=2, steps_per_epoch=3)
  bar.message('hello')
  for status in statuses:
    bar.on_status(ctx, status)
  bar.on_train_begin(ctx)
  for epoch in (1, 2):
    ctx.epoch = epoch
    bar.on_epoch_begin(ctx)
    for _ in range(3):
      ctx.step += 1
      bar.on_step_end(ctx, {'loss': 0.5})
    bar.on_epoch_end(ctx, {**RECORD, 'epoch': epoch, 'step': ctx.step})
  bar.on_train_end(ctx)


def test_format_record():
  assert progress.format_record(RECORD, 8) == (
    'epoch 2/8  step 88  train loss 0.5000 accuracy 87.50%  eval loss 0.2500 accuracy '
    '97.25%  lr 0.003  (1.2s, 350 steps/s)')
  assert progress.format_record({'epoch': 1, 'step': 4, 'train_loss': 1.0}) == (
    'epoch 1  step 4  train loss 1.0000  (0.0s)')


def test_plain_prints_only_lines():
  out = io.StringIO()
  drive(ProgressBar('plain', out))
  lines = out.getvalue().splitlines()
  assert lines[0] == 'hello' and len(lines) == 3
  assert lines[1].startswith('epoch 1/2  step 3  train loss')


def test_rich_shows_status_at_once_then_steps_per_second(monkeypatch):
  monkeypatch.setattr(progress, 'REFRESH_SECONDS', 0.0)
  out = io.StringIO()
  console = Console(file=out, force_terminal=True, width=160)
  bar = ProgressBar('rich', out, console=console)
  bar.start('loading data')
  bar._progress.refresh()
  assert 'loading data' in out.getvalue()  # the bar is there before any step
  drive(bar)
  text = out.getvalue()
  assert 'compiling train step' in text and 'steps/s' in text and 'loss 0.5000' in text
  assert 'hello' in text and 'epoch 2/2  step 6' in text
  assert bar._progress is None  # closed at the end


@pytest.mark.parametrize('env,tty,rich', [
  ({}, False, False), ({}, True, True), ({'CI': 'true'}, True, False),
  ({'CI': '1'}, True, False), ({'CI': 'false'}, True, True), ({'TERM': 'dumb'}, True, False),
])
def test_auto_mode(monkeypatch, env, tty, rich):
  monkeypatch.delenv('CI', raising=False)
  monkeypatch.setenv('TERM', 'xterm')
  for key, value in env.items():
    monkeypatch.setenv(key, value)
  assert ProgressBar('auto', FakeTTY() if tty else io.StringIO()).rich is rich


def test_explicit_modes_and_bad_mode():
  assert not ProgressBar('plain', FakeTTY()).rich
  assert ProgressBar('rich', io.StringIO()).rich
  with pytest.raises(ValueError, match='progress mode must be one of'):
    ProgressBar('fancy')
