"""Progress reporters: plain lines off-terminal or under CI, a rich bar on terminals."""

import io

import pytest

from flaxen._src.cli import progress


class FakeTTY(io.StringIO):
  def isatty(self):
    return True


def drive(reporter):
  reporter.message('hello')
  reporter.start(total_epochs=2, steps_per_epoch=3, start_epoch=0)
  for epoch in (1, 2):
    reporter.epoch_start(epoch, 2)
    for i in range(3):
      reporter.step(0.5 if i == 2 else None)
    reporter.epoch_end(f'epoch {epoch}/2 done')
  reporter.close()


def test_plain_reporter_prints_only_lines():
  out = io.StringIO()
  drive(progress.PlainReporter(out))
  assert out.getvalue() == 'hello\nepoch 1/2 done\nepoch 2/2 done\n'


def test_rich_reporter_prints_lines_above_the_bar():
  from rich.console import Console

  out = io.StringIO()
  reporter = progress.RichReporter(out, console=Console(file=out, force_terminal=True, width=100))
  assert reporter.wants_loss
  drive(reporter)
  text = out.getvalue()
  assert 'hello' in text and 'epoch 1/2 done' in text and 'epoch 2/2 done' in text
  assert 'loss 0.5000' in text  # the bar showed the running loss


@pytest.mark.parametrize('env,tty,expected', [
  ({}, False, progress.PlainReporter),
  ({}, True, progress.RichReporter),
  ({'CI': 'true'}, True, progress.PlainReporter),
  ({'CI': '1'}, True, progress.PlainReporter),
  ({'CI': 'false'}, True, progress.RichReporter),
  ({'TERM': 'dumb'}, True, progress.PlainReporter),
])
def test_auto_mode(monkeypatch, env, tty, expected):
  monkeypatch.delenv('CI', raising=False)
  monkeypatch.setenv('TERM', 'xterm')
  for key, value in env.items():
    monkeypatch.setenv(key, value)
  stream = FakeTTY() if tty else io.StringIO()
  assert type(progress.make_reporter('auto', stream)) is expected


def test_explicit_modes_and_bad_mode():
  assert type(progress.make_reporter('plain', FakeTTY())) is progress.PlainReporter
  assert type(progress.make_reporter('rich', io.StringIO())) is progress.RichReporter
  with pytest.raises(ValueError, match="'auto', 'rich' or 'plain'"):
    progress.make_reporter('fancy')
