"""The work directory of a training run: checkpoints, run description, metrics, plot.

Layout of ``<workdir>``:
  * ``checkpoints/checkpoint_<step>``: ``TrainState`` msgpack checkpoints written
    by ``flaxen.training.checkpoints.save_checkpoint`` after every epoch;
  * ``run.json``: what the run trains (model, data, batch size, optimizer, seed);
    a resumed run must match it, otherwise its steps and epochs would not line up;
  * ``metrics.jsonl``: one JSON object per finished epoch;
  * ``loss.png``: the loss curve, when matplotlib is installed.

Rules: a fresh run refuses a directory that already holds checkpoints unless
told to overwrite (then the old checkpoints, metrics and plot are removed first);
resuming restores the newest checkpoint with ``strict=True`` and turns the
checkpoint library's ``CheckpointCorruptedError`` / ``CheckpointMismatchError``
into a ``RunError`` that says what to do.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flaxen._src.training.checkpoints import (
  CheckpointCorruptedError,
  CheckpointMismatchError,
  available_steps,
  restore_checkpoint,
  save_checkpoint,
)

CHECKPOINTS = 'checkpoints'
PREFIX = 'checkpoint_'
RUN_INFO = 'run.json'
METRICS = 'metrics.jsonl'
PLOT = 'loss.png'


class RunError(ValueError):
  """A training run cannot start or resume as asked; the message says why and what to do."""


class RunDir:
  """Paths and bookkeeping of one work directory (see the module docstring)."""

  def __init__(self, workdir: str | os.PathLike):
    self.path = os.fspath(workdir)
    self.checkpoints = os.path.join(self.path, CHECKPOINTS)
    self.info_path = os.path.join(self.path, RUN_INFO)
    self.metrics_path = os.path.join(self.path, METRICS)
    self.plot_path = os.path.join(self.path, PLOT)

  def steps(self) -> list[int]:
    """Steps of the checkpoints present (complete or not), ascending."""
    return available_steps(self.checkpoints, PREFIX) if os.path.isdir(self.checkpoints) else []

  def start_fresh(self, overwrite: bool) -> None:
    """Prepares the directory for a new run.

    Raises:
      RunError: checkpoints exist and ``overwrite`` is False.
    """
    steps = self.steps()
    if steps and not overwrite:
      raise RunError(
        f'{self.path} already holds checkpoints (newest: step {steps[-1]}). Pass --resume to '
        f'continue that run, --overwrite to start a new one in its place, or choose another '
        f'--workdir.'
      )
    for step in steps:
      os.remove(os.path.join(self.checkpoints, f'{PREFIX}{step}'))
    for path in (self.metrics_path, self.plot_path):
      if os.path.exists(path):
        os.remove(path)
    os.makedirs(self.checkpoints, exist_ok=True)

  def read_info(self) -> dict[str, Any] | None:
    if not os.path.exists(self.info_path):
      return None
    try:
      with open(self.info_path) as f:
        return json.load(f)
    except (OSError, ValueError) as e:
      raise RunError(f'{self.info_path} is unreadable ({e}); cannot check what was trained') from e

  def write_info(self, info: dict[str, Any]) -> None:
    os.makedirs(self.path, exist_ok=True)
    with open(self.info_path, 'w') as f:
      json.dump(info, f, indent=2, sort_keys=True)
      f.write('\n')

  def check_info(self, info: dict[str, Any]) -> None:
    """Raises ``RunError`` listing every setting that differs from the saved run."""
    saved = self.read_info()
    if saved is None:
      return
    diffs = [
      f'  {key}: saved run {saved.get(key)!r}, now {info.get(key)!r}'
      for key in sorted(set(saved) | set(info))
      if saved.get(key) != info.get(key)
    ]
    if diffs:
      raise RunError(
        f'cannot resume the run in {self.path}: its settings differ from this one\n'
        + '\n'.join(diffs)
        + '\nUse the saved settings, or start a new run (--overwrite or another --workdir).'
      )

  def restore(self, state: Any) -> Any:
    """The newest checkpoint restored into ``state``'s structure; ``state`` if none.

    Raises:
      RunError: the newest checkpoint is damaged or does not fit ``state``.
    """
    try:
      return restore_checkpoint(self.checkpoints, state, prefix=PREFIX, strict=True)
    except CheckpointCorruptedError as e:
      if e.fallback:
        hint = (
          f'The newest complete checkpoint is {e.fallback}: move the damaged file away and '
          f'run again with --resume to continue from it.'
        )
      else:
        hint = 'No complete checkpoint is left: start over with --overwrite.'
      raise RunError(
        f'cannot resume: the latest checkpoint {e.path} is damaged ({e.reason}). {hint}'
      ) from e
    except CheckpointMismatchError as e:
      raise RunError(
        f'cannot resume: the checkpoint does not fit this model and optimizer.\n{e}'
      ) from e

  def save(self, state: Any, step: int, keep: int) -> str:
    """Writes the checkpoint of ``step`` (replacing a leftover file of that step)."""
    return save_checkpoint(self.checkpoints, state, step, prefix=PREFIX, keep=keep,
                           overwrite=True)

  def read_metrics(self, up_to_epoch: int) -> list[dict[str, Any]]:
    """Logged epochs ``<= up_to_epoch`` (the last record of each epoch wins)."""
    if not os.path.exists(self.metrics_path):
      return []
    records: dict[int, dict[str, Any]] = {}
    with open(self.metrics_path) as f:
      for line in f:
        line = line.strip()
        if not line:
          continue
        try:
          record = json.loads(line)
        except ValueError:
          continue  # a line cut short by a crash: that epoch is logged again
        if isinstance(record, dict) and 0 < record.get('epoch', 0) <= up_to_epoch:
          records[record['epoch']] = record
    return [records[e] for e in sorted(records)]

  def write_metrics(self, records: list[dict[str, Any]]) -> None:
    """Replaces the metrics log with ``records`` (used when a run resumes)."""
    os.makedirs(self.path, exist_ok=True)
    with open(self.metrics_path, 'w') as f:
      for record in records:
        f.write(json.dumps(record, sort_keys=True) + '\n')

  def append_metrics(self, record: dict[str, Any]) -> None:
    os.makedirs(self.path, exist_ok=True)
    with open(self.metrics_path, 'a') as f:
      f.write(json.dumps(record, sort_keys=True) + '\n')
