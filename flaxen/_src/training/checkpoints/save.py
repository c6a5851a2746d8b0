"""``save_checkpoint``: write ``<ckpt_dir>/<prefix><step>`` safely and prune old ones.

Order of operations (single process):
  1. wait for the previous asynchronous save (bookkeeping must see its file);
  2. without ``overwrite``: refuse (``InvalidCheckpointError``) a step that is not
     newer than every checkpoint already in the directory;
  3. serialize on the calling thread: ``serialization.to_bytes(target)``, the
     reference's msgpack bytes;
  4. commit (in the background with an ``AsyncManager``): atomic write (temp file
     in the same directory, fsync, rename, fsync of the directory), then, only
     once the new file is durable, delete checkpoints newer than it (with
     ``overwrite``) and old ones beyond ``keep`` (sparing every
     ``keep_every_n_steps``-th), then stale temporaries of dead writers.

A crash at any point leaves the previous checkpoints intact and never a partial
file under a checkpoint name. Commits to one directory are serialized inside the
process (a lock per directory), so concurrent saves keep ``keep`` exact.
"""

from __future__ import annotations

import contextlib
import logging
import operator
import os
import shutil
import threading
from typing import Any

from flaxen._src import errors
from flaxen._src.config import config
from flaxen._src.public import set_module
from flaxen._src.serialization.bytes_api import to_bytes
from flaxen._src.training.checkpoints import atomic, naming, orbax_bridge
from flaxen._src.training.checkpoints.async_manager import AsyncManager

_log = logging.getLogger(__name__)
_dir_locks_guard = threading.Lock()
_dir_locks: dict[str, threading.Lock] = {}


def _dir_lock(directory: str) -> threading.Lock:
  key = os.path.realpath(directory)
  with _dir_locks_guard:
    return _dir_locks.setdefault(key, threading.Lock())


def split_prefix(ckpt_dir: str, prefix: str) -> tuple[str, str]:
  """Moves any directory part of ``prefix`` into ``ckpt_dir``."""
  head, tail = os.path.split(os.path.join(ckpt_dir, prefix))
  return head, tail


def use_orbax(orbax_checkpointer: Any) -> bool:
  """Whether a save goes through Orbax (explicit checkpointer or the config flag)."""
  return orbax_checkpointer is not None or bool(config.flax_use_orbax_checkpointing)


def check_not_outdated(path: str, ckpt_dir: str, prefix: str, step: Any) -> None:
  """Raises ``InvalidCheckpointError`` unless ``path`` would be the newest checkpoint."""
  existing = naming.all_checkpoints(ckpt_dir, prefix)
  if path in existing or naming.natural_sort(existing + [path])[-1] != path:
    raise errors.InvalidCheckpointError(path, step)


def _delete(path: str) -> None:
  _log.info('Removing checkpoint at %s', path)
  with contextlib.suppress(FileNotFoundError):
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    else:
      os.remove(path)
  gda = f'{path}_gda'
  if os.path.isdir(gda):
    shutil.rmtree(gda, ignore_errors=True)


def prune(path: str, ckpt_dir: str, prefix: str, keep: int, overwrite: bool,
          keep_every_n_steps: int | None) -> None:
  """Deletes checkpoints newer than ``path`` (if ``overwrite``) and those beyond ``keep``."""
  files = naming.all_checkpoints(ckpt_dir, prefix)
  if overwrite and path in files:
    cut = files.index(path) + 1
    for newer in files[cut:]:
      _delete(newer)
    files = files[:cut]
  if len(files) <= keep:
    return
  last_kept = -float('inf')
  for old in files[:-keep]:
    if keep_every_n_steps:
      step = float(os.path.basename(old)[len(prefix):])
      if step >= last_kept + keep_every_n_steps:
        last_kept = step
        continue
    _delete(old)


def _validate(keep: int, keep_every_n_steps: int | None) -> int:
  try:
    count = operator.index(keep)
  except TypeError:
    count = 0
  if isinstance(keep, bool) or count < 1:
    raise ValueError(f'save_checkpoint: keep must be a positive integer, got {keep!r}')
  if keep_every_n_steps is not None and keep_every_n_steps <= 0:
    raise ValueError(
      f'save_checkpoint: keep_every_n_steps must be positive or None, got {keep_every_n_steps!r}'
    )
  return count


def save_prepared(ckpt_dir: str, target: Any, step: Any, prefix: str, keep: int,
                  overwrite: bool, keep_every_n_steps: int | None,
                  async_manager: AsyncManager | None, orbax_checkpointer: Any) -> str:
  """``save_checkpoint`` after argument normalization (shared with multiprocess)."""
  keep = _validate(keep, keep_every_n_steps)
  ckpt_dir, prefix = split_prefix(ckpt_dir, prefix)
  path = naming.checkpoint_path(ckpt_dir, step, prefix)
  lock = async_manager.lock if async_manager is not None else contextlib.nullcontext()
  with lock:
    if async_manager is not None:
      async_manager.wait_previous_save()
    os.makedirs(ckpt_dir, exist_ok=True)
    if not overwrite:
      check_not_outdated(path, ckpt_dir, prefix, step)
    if use_orbax(orbax_checkpointer):
      payload = None
    else:
      payload = to_bytes(target)

    def commit() -> None:
      with _dir_lock(ckpt_dir):
        if payload is None:
          orbax_bridge.save(path, target, overwrite, orbax_checkpointer)
        else:
          atomic.atomic_write(path, payload, overwrite=overwrite)
        prune(path, ckpt_dir, prefix, keep, overwrite, keep_every_n_steps)
        atomic.remove_stale_tmp_files(ckpt_dir)

    if async_manager is not None and payload is not None:
      async_manager.save_async(commit)
    else:
      commit()
  return path


@set_module('flaxen.training.checkpoints')
def save_checkpoint(
  ckpt_dir: str | os.PathLike,
  target: Any,
  step: int | float,
  prefix: str = 'checkpoint_',
  keep: int = 1,
  overwrite: bool = False,
  keep_every_n_steps: int | None = None,
  async_manager: AsyncManager | None = None,
  orbax_checkpointer: Any = None,
) -> str:
  """Saves ``target`` as checkpoint ``<ckpt_dir>/<prefix><step>`` (one process).

  Every process that calls this writes its own file; for several processes
  sharing a directory use ``save_checkpoint_multiprocess``. The file holds
  ``serialization.to_bytes(target)`` and appears atomically (write to a
  temporary file in the same directory, fsync, rename, fsync the directory), so
  a crash never leaves a partial checkpoint.

  Args:
    ckpt_dir: directory of the checkpoints (created if missing).
    target: any serializable object (dict, list, ``TrainState``, array, ...).
    step: training step (int) or another number (float) naming the file.
    prefix: file name prefix.
    keep: how many of the newest checkpoints to keep (at least 1).
    overwrite: allow saving at a step that is not newer than existing ones;
      the file for ``step`` is replaced and newer checkpoints are deleted.
    keep_every_n_steps: additionally keep one checkpoint every this many steps.
    async_manager: if given, write in a background thread (see
      ``AsyncManager``); the target is serialized before this returns.
    orbax_checkpointer: save through this Orbax checkpointer (a directory).

  Returns:
    The path of the checkpoint.

  Raises:
    InvalidCheckpointError: without ``overwrite``, a checkpoint at ``step`` or
      a later step exists.
    ValueError: ``keep < 1``.

  Example:
    >>> import tempfile, numpy as np
    >>> from flaxen.training import checkpoints
    >>> d = tempfile.mkdtemp()
    >>> for step in range(3):
    ...   _ = checkpoints.save_checkpoint(d, {'w': np.full(2, step)}, step, keep=2)
    >>> checkpoints.available_steps(d)
    [1, 2]
  """
  return save_prepared(os.fspath(ckpt_dir), target, step, prefix, keep, overwrite,
                       keep_every_n_steps, async_manager, orbax_checkpointer)
