"""``ProgressBar``: a live rich bar on terminals, plain lines elsewhere.

Rich mode shows one bar from the moment it starts: first the phase of the run
as a status next to a spinner (``loading data``, ``initializing model``,
``compiling train step``), then per epoch the steps done, the training speed in
steps per second (from the second step on, so compilation does not count), the
running loss and the elapsed and remaining time. Epoch lines and messages are
printed above the bar.

Plain mode (output not a terminal, ``CI`` set to a true value, or ``TERM=dumb``)
prints only the messages and one line per finished epoch: logs stay short.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from flaxen._src.public import set_module
from flaxen._src.training.loop.callbacks import Callback, FitContext

_TRUE = {'1', 'true', 'yes', 'on'}
_MODES = ('auto', 'rich', 'plain')
#: seconds between two reads of the running loss (each read waits for the device)
REFRESH_SECONDS = 0.2


def wants_rich(stream: TextIO) -> bool:
  """True when ``stream`` is an interactive terminal outside CI."""
  if os.environ.get('CI', '').strip().lower() in _TRUE:
    return False
  if os.environ.get('TERM', '') == 'dumb':
    return False
  isatty = getattr(stream, 'isatty', None)
  return bool(isatty and isatty())


def _number(key: str, value: Any) -> str:
  if 'accuracy' in key:
    return f'{100 * value:.2f}%'
  if key == 'learning_rate':
    return f'{value:.3g}'
  return f'{value:.4f}'


def format_record(record: dict[str, Any], epochs: int | None = None) -> str:
  """One line for an epoch record, e.g. ``epoch 2/8  step 88  train loss 0.5000 ...``."""
  total = f'/{epochs}' if epochs else ''
  parts = [f'epoch {record["epoch"]}{total}', f'step {record["step"]}']
  for group in ('train', 'eval'):
    items = [(k[len(group) + 1:], v) for k, v in record.items()
             if k.startswith(group + '_') and isinstance(v, (int, float))]
    if items:
      items.sort(key=lambda kv: (kv[0] != 'loss', kv[0]))
      parts.append(group + ' ' + ' '.join(f'{k} {_number(k, v)}' for k, v in items))
  if 'learning_rate' in record:
    parts.append(f'lr {_number("learning_rate", record["learning_rate"])}')
  timing = f'{record.get("seconds", 0.0):.1f}s'
  if record.get('steps_per_second'):
    timing += f', {record["steps_per_second"]:.0f} steps/s'
  return '  '.join(parts) + f'  ({timing})'


@set_module('flaxen.training.callbacks')
class ProgressBar(Callback):
  """Shows training progress (see the module docstring).

  Args:
    mode: ``'auto'`` (rich on a terminal outside CI, plain otherwise), ``'rich'``
      or ``'plain'``.
    stream: where to write (default: standard output).
    console: a ``rich.console.Console`` to draw on (rich mode; default: one on
      ``stream``).

  Raises:
    ValueError: unknown ``mode``.
  """

  def __init__(self, mode: str = 'auto', stream: TextIO | None = None, console: Any = None):
    if mode not in _MODES:
      raise ValueError(f'progress mode must be one of {_MODES}, got {mode!r}')
    self.stream = stream if stream is not None else sys.stdout
    self.rich = mode == 'rich' or (mode == 'auto' and wants_rich(self.stream))
    self._console = console
    self._progress: Any = None
    self._task: Any = None
    self._epoch_started = 0.0
    self._epoch_steps = 0
    self._last_read = 0.0

  # --- display -------------------------------------------------------------------

  def start(self, status: str = '') -> None:
    """Shows the bar now (rich mode), with ``status`` as its first phase."""
    if not self.rich:
      return
    if self._progress is None:
      from rich.console import Console
      from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
      )

      console = self._console or Console(file=self.stream)
      self._progress = Progress(
        SpinnerColumn(), TextColumn('[bold]{task.description}'), BarColumn(),
        MofNCompleteColumn(), TextColumn('{task.fields[rate]}'),
        TextColumn('{task.fields[loss]}'), TimeElapsedColumn(), TimeRemainingColumn(),
        TextColumn('[dim]{task.fields[status]}'),
        console=console, transient=True,
      )
      self._task = self._progress.add_task('flaxen', total=None, rate='', loss='',
                                           status=status)
      self._progress.start()
      self._progress.refresh()
    else:  # drawn at once: the phase may block the thread (a compilation, say)
      self._progress.update(self._task, status=status, refresh=True)

  def message(self, text: str) -> None:
    """Prints ``text`` as a line (above the bar in rich mode)."""
    if self._progress is not None:
      self._progress.console.print(text, highlight=False, markup=False, soft_wrap=True)
    else:
      print(text, file=self.stream, flush=True)

  def close(self) -> None:
    """Removes the bar (rich mode); messages still print as plain lines."""
    if self._progress is not None:
      self._progress.stop()
      self._progress = self._task = None

  # --- hooks ---------------------------------------------------------------------

  def on_status(self, ctx: FitContext, text: str) -> None:
    if self.rich:
      self.start(text)

  def on_message(self, ctx: FitContext, text: str) -> None:
    self.message(text)

  def on_epoch_begin(self, ctx: FitContext) -> None:
    self._epoch_steps, self._epoch_started = 0, 0.0
    if self.rich:
      self.start()
      self._progress.reset(self._task, total=ctx.steps_per_epoch,
                           description=f'epoch {ctx.epoch}/{ctx.epochs}', rate='', loss='',
                           status='')

  def on_step_end(self, ctx: FitContext, metrics: dict[str, Any]) -> None:
    if self._progress is None:
      return
    self._epoch_steps += 1
    now = time.perf_counter()
    if self._epoch_steps == 1:
      self._epoch_started = now
      self._progress.update(self._task, advance=1, status='')
      return
    fields = {}
    last = ctx.steps_per_epoch is not None and self._epoch_steps >= ctx.steps_per_epoch
    if last or now - self._last_read >= REFRESH_SECONDS:
      self._last_read = now
      rate = (self._epoch_steps - 1) / max(now - self._epoch_started, 1e-9)
      fields = {'rate': f'{rate:,.0f} steps/s', 'loss': f'loss {float(metrics["loss"]):.4f}'}
    self._progress.update(self._task, advance=1, **fields)

  def on_epoch_end(self, ctx: FitContext, record: dict[str, Any]) -> None:
    self.message(format_record(record, ctx.epochs))

  def on_train_end(self, ctx: FitContext) -> None:
    self.close()
