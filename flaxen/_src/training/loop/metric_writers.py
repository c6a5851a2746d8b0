"""Metric writers: scalars per step into CSV files and TensorBoard event files.

A ``MetricWriter`` takes ``write_scalars(step, {name: number})`` and
``write_hparams({name: value})``; ``truncate(step)`` forgets what was written
after ``step`` (a resumed run calls it with the restored step, so the files
never hold two histories), ``flush`` and ``close`` finish the files.

  * ``CsvWriter``: one CSV file, one row per ``write_scalars`` call, a ``step``
    column and one column per name (the header grows when a new name appears:
    the file is then rewritten). Numbers are written with ``repr``, so
    ``read_csv`` gives back the very floats that were written.
  * ``TensorBoardWriter``: TensorBoard event files through the optional
    ``tensorboardX`` package (``pip install 'flaxen[tensorboard]'``).
  * ``MultiWriter``: several writers as one.
  * ``create_default_writer(logdir)``: a CSV file ``metrics.csv`` always, plus
    event files under ``tensorboard/`` when tensorboardX is installed.

``WriteMetrics`` is the callback that feeds a writer from ``fit``: one row per
epoch record, and with ``log_every=N`` one row per ``N`` steps (``batch_loss``:
the mean loss of those steps, ``grad_norm``, ``learning_rate``).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import jax
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.training.loop.callbacks import Callback, FitContext
from flaxen._src.training.loop.steps import learning_rate

_PUBLIC = 'flaxen.training.metric_writers'
CSV_NAME = 'metrics.csv'
TENSORBOARD_DIR = 'tensorboard'


@set_module(_PUBLIC)
class MetricWriter:
  """Base class (and interface) of metric writers; every method does nothing."""

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    """Records ``scalars`` at ``step``."""

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    """Records the hyper-parameters of the run."""

  def truncate(self, step: int) -> None:
    """Forgets everything written for steps after ``step``."""

  def flush(self) -> None:
    """Makes what was written visible to readers."""

  def close(self) -> None:
    """Flushes and releases the files."""


def _cell(value: Any) -> str:
  if isinstance(value, (bool, np.bool_)):
    return str(int(value))
  if isinstance(value, (int, np.integer)):
    return str(int(value))
  return repr(float(value))


def _parse(text: str) -> int | float | None:
  if text == '':
    return None
  try:
    return int(text)
  except ValueError:
    return float(text)


@set_module(_PUBLIC)
def read_csv(path: str | os.PathLike) -> list[dict[str, int | float]]:
  """The rows of a ``CsvWriter`` file as dicts (empty cells left out)."""
  with open(path, newline='') as f:
    rows = list(csv.DictReader(f))
  return [{k: v for k, v in ((k, _parse(t)) for k, t in row.items()) if v is not None}
          for row in rows]


@set_module(_PUBLIC)
class CsvWriter(MetricWriter):
  """Scalars into one CSV file (see the module docstring).

  An existing file is continued: its header and rows are kept.

  Example:
    >>> import pathlib, tempfile
    >>> from flaxen.training.metric_writers import CsvWriter, read_csv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / 'm.csv'
    >>> writer = CsvWriter(path)
    >>> writer.write_scalars(1, {'loss': 0.5})
    >>> writer.write_scalars(2, {'loss': 0.25, 'accuracy': 0.75})
    >>> writer.close()
    >>> path.read_text().splitlines()
    ['step,loss,accuracy', '1,0.5,', '2,0.25,0.75']
    >>> read_csv(path)[1]
    {'step': 2, 'loss': 0.25, 'accuracy': 0.75}
  """

  def __init__(self, path: str | os.PathLike):
    self.path = os.fspath(path)
    self._columns: list[str] = ['step']
    if os.path.exists(self.path):
      with open(self.path, newline='') as f:
        header = next(csv.reader(f), None)
      if header:
        self._columns = header

  def _rewrite(self, rows: Iterable[Mapping[str, str]]) -> None:
    tmp = self.path + '.tmp'
    with open(tmp, 'w', newline='') as f:
      out = csv.DictWriter(f, self._columns)
      out.writeheader()
      out.writerows(rows)
    os.replace(tmp, self.path)

  def _rows(self) -> list[dict[str, str]]:
    if not os.path.exists(self.path):
      return []
    with open(self.path, newline='') as f:
      return list(csv.DictReader(f))

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    row = {'step': str(int(step)), **{k: _cell(v) for k, v in scalars.items()}}
    new = [k for k in row if k not in self._columns]
    directory = os.path.dirname(self.path)
    if directory:
      os.makedirs(directory, exist_ok=True)
    if new or not os.path.exists(self.path):
      rows = self._rows()
      self._columns += new
      self._rewrite([*rows, row])
      return
    with open(self.path, 'a', newline='') as f:
      csv.DictWriter(f, self._columns).writerow(row)

  def truncate(self, step: int) -> None:
    if os.path.exists(self.path):
      self._rewrite([r for r in self._rows() if r.get('step') and int(r['step']) <= step])


def tensorboard_available() -> bool:
  """Whether ``tensorboardX`` can be imported."""
  try:
    import tensorboardX  # noqa: F401
  except ImportError:
    return False
  return True


@set_module(_PUBLIC)
class TensorBoardWriter(MetricWriter):
  """Scalars into TensorBoard event files under ``logdir`` (needs tensorboardX).

  After ``truncate(step)`` the next event file starts with a purge marker, so
  TensorBoard drops the older events of later steps (those of an abandoned run).

  Raises:
    ImportError: tensorboardX is not installed (the message says how to get it).
  """

  def __init__(self, logdir: str | os.PathLike):
    if not tensorboard_available():
      raise ImportError("TensorBoard event files need tensorboardX: "
                        "pip install 'flaxen[tensorboard]'")
    self.logdir = os.fspath(logdir)
    self._writer: Any = None
    self._purge_step: int | None = None

  def _open(self) -> Any:
    if self._writer is None:
      from tensorboardX import SummaryWriter

      self._writer = SummaryWriter(logdir=self.logdir, purge_step=self._purge_step)
    return self._writer

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    writer = self._open()
    for name, value in scalars.items():
      writer.add_scalar(name, float(value), global_step=int(step))

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    text = json.dumps(dict(hparams), indent=2, sort_keys=True, default=str)
    self._open().add_text('hparams', f'```\n{text}\n```', global_step=0)

  def truncate(self, step: int) -> None:
    self.close()
    self._purge_step = int(step) + 1

  def flush(self) -> None:
    if self._writer is not None:
      self._writer.flush()

  def close(self) -> None:
    if self._writer is not None:
      self._writer.close()
      self._writer = None


@set_module(_PUBLIC)
class MultiWriter(MetricWriter):
  """Several writers behind one: every call goes to each, in order."""

  def __init__(self, writers: Iterable[MetricWriter]):
    self.writers = list(writers)

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    for w in self.writers:
      w.write_scalars(step, scalars)

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    for w in self.writers:
      w.write_hparams(hparams)

  def truncate(self, step: int) -> None:
    for w in self.writers:
      w.truncate(step)

  def flush(self) -> None:
    for w in self.writers:
      w.flush()

  def close(self) -> None:
    for w in self.writers:
      w.close()


@set_module(_PUBLIC)
def create_default_writer(logdir: str | os.PathLike, *,
                          tensorboard: bool | None = None) -> MultiWriter:
  """``<logdir>/metrics.csv``, plus event files in ``<logdir>/tensorboard``.

  Args:
    logdir: the directory of the files.
    tensorboard: write event files (True needs tensorboardX), or not (False);
      None: when tensorboardX is installed.
  """
  logdir = os.fspath(logdir)
  writers: list[MetricWriter] = [CsvWriter(os.path.join(logdir, CSV_NAME))]
  if tensorboard or (tensorboard is None and tensorboard_available()):
    writers.append(TensorBoardWriter(os.path.join(logdir, TENSORBOARD_DIR)))
  return MultiWriter(writers)


def _numbers(record: Mapping[str, Any]) -> dict[str, float]:
  return {k: v for k, v in record.items()
          if k != 'step' and isinstance(v, (int, float)) and not isinstance(v, bool)}


@set_module('flaxen.training.callbacks')
class WriteMetrics(Callback):
  """Feeds a ``MetricWriter`` from ``fit`` (see ``flaxen.training.metric_writers``).

  Args:
    writer: where the scalars go.
    log_every: also write ``batch_loss``, ``grad_norm`` and ``learning_rate``
      every this many steps (None: epoch records only).
    hparams: written once, when training begins.
  """

  def __init__(self, writer: MetricWriter, log_every: int | None = None,
               hparams: Mapping[str, Any] | None = None):
    if log_every is not None and log_every < 1:
      raise ValueError(f'log_every must be >= 1, got {log_every}')
    self.writer = writer
    self.log_every = log_every
    self.hparams = dict(hparams or {})
    self._losses: list[Any] = []

  def on_train_begin(self, ctx: FitContext) -> None:
    self.writer.truncate(ctx.start_step)
    if self.hparams:
      self.writer.write_hparams(self.hparams)

  def on_step_end(self, ctx: FitContext, metrics: dict[str, Any]) -> None:
    if self.log_every is None:
      return
    self._losses.append(metrics['loss'])
    if ctx.step % self.log_every:
      return
    losses, self._losses = jax.device_get(self._losses), []
    scalars = {'batch_loss': float(np.mean(losses)), 'grad_norm': float(metrics['grad_norm'])}
    lr = learning_rate(ctx.state.opt_state) if ctx.state is not None else None
    if lr is not None:
      scalars['learning_rate'] = float(lr)
    self.writer.write_scalars(ctx.step, scalars)

  def on_epoch_end(self, ctx: FitContext, record: dict[str, Any]) -> None:
    self._losses = []
    self.writer.write_scalars(record['step'], _numbers(record))
    self.writer.flush()

  def on_train_end(self, ctx: FitContext) -> None:
    self.writer.close()
