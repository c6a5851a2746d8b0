"""Progress reporting for training runs: a rich bar on terminals, plain lines elsewhere.

Two reporters share one small interface (``start``, ``epoch_start``, ``step``,
``epoch_end``, ``message``, ``close``):

* ``PlainReporter`` writes one line per message and per finished epoch, nothing
  per step: logs and CI output stay short and readable;
* ``RichReporter`` shows a live bar per epoch (steps done, running loss, time)
  with the same lines printed above it.

``make_reporter('auto')`` picks rich only when the stream is a terminal, ``CI``
is not set to a true value and ``TERM`` is not ``dumb``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

_TRUE = {'1', 'true', 'yes', 'on'}


class PlainReporter:
  """Line-per-event reporter (non-terminal output, CI)."""

  #: whether ``step`` should be given the batch loss (costs a device sync)
  wants_loss = False

  def __init__(self, stream: TextIO | None = None):
    self.stream = stream if stream is not None else sys.stdout

  def start(self, total_epochs: int, steps_per_epoch: int, start_epoch: int) -> None:
    del total_epochs, steps_per_epoch, start_epoch

  def epoch_start(self, epoch: int, total_epochs: int) -> None:
    del epoch, total_epochs

  def step(self, loss: float | None = None) -> None:
    del loss

  def epoch_end(self, line: str) -> None:
    self.message(line)

  def message(self, text: str) -> None:
    print(text, file=self.stream, flush=True)

  def close(self) -> None:
    pass


class RichReporter(PlainReporter):
  """Live progress bar (rich) with epoch lines printed above it."""

  wants_loss = True

  def __init__(self, stream: TextIO | None = None, console: Any = None):
    super().__init__(stream)
    from rich.console import Console
    from rich.progress import (
      BarColumn,
      MofNCompleteColumn,
      Progress,
      TextColumn,
      TimeElapsedColumn,
      TimeRemainingColumn,
    )

    self.console = console if console is not None else Console(file=self.stream)
    self._progress = Progress(
      TextColumn('[bold]{task.description}'),
      BarColumn(),
      MofNCompleteColumn(),
      TextColumn('loss {task.fields[loss]}'),
      TimeElapsedColumn(),
      TimeRemainingColumn(),
      console=self.console,
      transient=True,
    )
    self._task = None
    self._steps = 0

  def start(self, total_epochs: int, steps_per_epoch: int, start_epoch: int) -> None:
    del total_epochs, start_epoch
    self._steps = steps_per_epoch
    self._progress.start()

  def epoch_start(self, epoch: int, total_epochs: int) -> None:
    description = f'epoch {epoch}/{total_epochs}'
    if self._task is None:
      self._task = self._progress.add_task(description, total=self._steps, loss='-')
    else:
      self._progress.reset(self._task, total=self._steps, description=description, loss='-')

  def step(self, loss: float | None = None) -> None:
    if self._task is None:
      return
    if loss is None:
      self._progress.advance(self._task)
    else:
      self._progress.update(self._task, advance=1, loss=f'{loss:.4f}')

  def message(self, text: str) -> None:
    self._progress.console.print(text, highlight=False, markup=False, soft_wrap=True)

  def close(self) -> None:
    self._progress.stop()


def wants_rich(stream: TextIO) -> bool:
  """True when ``stream`` is an interactive terminal outside CI."""
  if os.environ.get('CI', '').strip().lower() in _TRUE:
    return False
  if os.environ.get('TERM', '') == 'dumb':
    return False
  isatty = getattr(stream, 'isatty', None)
  return bool(isatty and isatty())


def make_reporter(mode: str = 'auto', stream: TextIO | None = None) -> PlainReporter:
  """A reporter for ``mode`` in ``{'auto', 'rich', 'plain'}``.

  Raises:
    ValueError: unknown ``mode``.
  """
  stream = stream if stream is not None else sys.stdout
  if mode == 'auto':
    mode = 'rich' if wants_rich(stream) else 'plain'
  if mode == 'rich':
    return RichReporter(stream)
  if mode == 'plain':
    return PlainReporter(stream)
  raise ValueError(f"progress mode must be 'auto', 'rich' or 'plain', got {mode!r}")
