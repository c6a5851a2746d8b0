"""The directory of a training run: checkpoints, epoch history, start and resume rules.

Layout of ``<workdir>`` (the entries ``fit`` owns):
  * ``checkpoints/checkpoint_<step>``: the ``FitState`` after every epoch;
  * ``history.jsonl``: one JSON object per finished epoch (the ``history``
    records), written before the epoch's checkpoint;
  * ``metrics.csv``, ``tensorboard/``: the default metric writers' files;
  * ``loss.png``: the plot of ``PlotHistory``, when used there.

Checkpoint format, an explicit choice that no global flag changes: ``'msgpack'``
(the default: one file per checkpoint, byte-compatible with Flax's msgpack
checkpoints) or ``'orbax'`` (a directory per checkpoint, needs orbax-checkpoint).
Saves and restores run with ``flax_use_orbax_checkpointing`` set to match.

Rules: a fresh run refuses a directory that already holds checkpoints unless
told to overwrite (then the owned entries above are removed first); resuming
restores the newest checkpoint with ``strict=True`` and turns damaged or
mismatched checkpoints into a ``WorkdirError`` that says what to do; so are a
path that is a file, a directory that cannot be written and a full disk.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from typing import Any

from flaxen._src.config import config
from flaxen._src.public import set_module
from flaxen._src.training.checkpoints import (
  CheckpointCorruptedError,
  CheckpointMismatchError,
  available_steps,
  restore_checkpoint,
  save_checkpoint,
)
from flaxen._src.training.loop.metric_writers import CSV_NAME, TENSORBOARD_DIR

CHECKPOINTS = 'checkpoints'
PREFIX = 'checkpoint_'
HISTORY = 'history.jsonl'
PLOT = 'loss.png'
FORMATS = ('msgpack', 'orbax')
OWNED = (CHECKPOINTS, HISTORY, CSV_NAME, TENSORBOARD_DIR, PLOT)

_WHY: dict[int | None, str] = {  # keyed by OSError.errno (which may be None)
  errno.EACCES: 'permission denied', errno.EPERM: 'permission denied',
  errno.EROFS: 'read-only file system', errno.ENOSPC: 'no space left on the device',
  errno.EDQUOT: 'disk quota exceeded', errno.ENOTDIR: 'a part of the path is a file',
}


@set_module('flaxen.training.loop')
class WorkdirError(Exception):
  """A run cannot start, resume or save in its work directory; the message says what to do."""


def describe_os_error(e: OSError, path: str, doing: str = 'write to') -> str:
  """One line for an ``OSError`` met while using ``path``."""
  why = _WHY.get(e.errno) or e.strerror or str(e)
  return f'cannot {doing} {path}: {why}'


class Workdir:
  """Paths and bookkeeping of one work directory (see the module docstring)."""

  def __init__(self, path: str | os.PathLike, checkpoint_format: str = 'msgpack'):
    if checkpoint_format not in FORMATS:
      raise ValueError(f'checkpoint_format must be one of {FORMATS}, got {checkpoint_format!r}')
    self.path = os.fspath(path)
    self.format = checkpoint_format
    self.checkpoints = os.path.join(self.path, CHECKPOINTS)
    self.history_path = os.path.join(self.path, HISTORY)
    self.plot_path = os.path.join(self.path, PLOT)

  def _flag(self) -> Any:
    return config.temp_flip_flag('use_orbax_checkpointing', self.format == 'orbax')

  def steps(self) -> list[int]:
    """Steps of the checkpoints present, ascending."""
    return available_steps(self.checkpoints, PREFIX) if os.path.isdir(self.checkpoints) else []

  def check_writable(self) -> None:
    """Creates the directory and writes a probe file in it.

    Raises:
      WorkdirError: the path is a file, or the directory cannot be written.
    """
    if os.path.exists(self.path) and not os.path.isdir(self.path):
      raise WorkdirError(f'{self.path} is a file, not a directory: choose another workdir')
    try:
      os.makedirs(self.checkpoints, exist_ok=True)
      with tempfile.NamedTemporaryFile(dir=self.path, prefix='.probe-'):
        pass
    except OSError as e:
      raise WorkdirError(describe_os_error(e, self.path)) from e

  def prepare(self, *, resume: bool, overwrite: bool) -> None:
    """Checks the directory before any compilation; a fresh run clears it if allowed.

    Raises:
      WorkdirError: see ``check_writable``; or checkpoints exist, this is a fresh
        run and ``overwrite`` is False.
    """
    self.check_writable()
    if resume:
      return
    steps = self.steps()
    if steps and not overwrite:
      raise WorkdirError(
        f'{self.path} already holds checkpoints (newest: step {steps[-1]}). Resume that run '
        f'(resume=True, --resume), start a new one in its place (overwrite=True, '
        f'--overwrite), or choose another workdir.'
      )
    try:
      for name in OWNED:
        path = os.path.join(self.path, name)
        if os.path.isdir(path):
          shutil.rmtree(path)
        elif os.path.exists(path):
          os.remove(path)
      os.makedirs(self.checkpoints, exist_ok=True)
    except OSError as e:
      raise WorkdirError(describe_os_error(e, self.path, 'clear')) from e

  def restore(self, template: Any) -> Any:
    """The newest intact checkpoint restored into ``template``'s structure; None if none.

    A damaged newer checkpoint (truncated, edited, not matching its integrity record) is
    skipped with a logged warning, so a run never resumes from garbage.

    Raises:
      WorkdirError: no intact checkpoint is left, or it does not fit ``template``.
    """
    if not self.steps():
      return None
    try:
      with self._flag():
        return restore_checkpoint(self.checkpoints, template, prefix=PREFIX, strict=True)
    except CheckpointCorruptedError as e:
      if e.fallback:
        hint = (f'The newest complete checkpoint is {e.fallback}: move the damaged one away '
                f'and resume again to continue from it.')
      else:
        hint = 'No complete checkpoint is left: start over (overwrite=True, --overwrite).'
      raise WorkdirError(
        f'cannot resume: the latest checkpoint {e.path} is damaged ({e.reason}). {hint}'
      ) from e
    except CheckpointMismatchError as e:
      raise WorkdirError(
        f'cannot resume: the checkpoint does not fit this model and optimizer: {e}'
      ) from e

  def save(self, state: Any, step: int, keep: int) -> str:
    """Writes the checkpoint of ``step`` (replacing a leftover one of that step).

    Raises:
      WorkdirError: the file cannot be written (disk full, permissions).
    """
    try:
      with self._flag():
        return save_checkpoint(self.checkpoints, state, step, prefix=PREFIX, keep=keep,
                               overwrite=True)
    except OSError as e:
      raise WorkdirError(describe_os_error(e, self.checkpoints, 'save a checkpoint in')) from e

  def read_history(self, up_to_epoch: int) -> list[dict[str, Any]]:
    """Logged epochs ``<= up_to_epoch`` (the last record of each epoch wins)."""
    if not os.path.exists(self.history_path):
      return []
    records: dict[int, dict[str, Any]] = {}
    with open(self.history_path) as f:
      for line in f:
        with contextlib.suppress(ValueError):  # a line cut short by a crash
          record = json.loads(line)
          if isinstance(record, dict) and 0 < record.get('epoch', 0) <= up_to_epoch:
            records[record['epoch']] = record
    return [records[e] for e in sorted(records)]

  def write_history(self, records: list[dict[str, Any]]) -> None:
    """Replaces the history file with ``records`` (a resumed run's restored epochs)."""
    self._write(self.history_path, 'w', records)

  def append_history(self, record: dict[str, Any]) -> None:
    self._write(self.history_path, 'a', [record])

  def _write(self, path: str, mode: str, records: list[dict[str, Any]]) -> None:
    try:
      with open(path, mode) as f:
        for record in records:
          f.write(json.dumps(record, sort_keys=True) + '\n')
    except OSError as e:
      raise WorkdirError(describe_os_error(e, path)) from e
