"""``save_checkpoint``: write ``<ckpt_dir>/<prefix><step>`` safely, then prune old checkpoints.

The format follows ``flax_use_orbax_checkpointing`` (on by default, as in the
reference) or an explicit ``orbax_checkpointer``: an Orbax directory, see
``orbax_bridge``. With the flag off, the legacy msgpack file: the reference's
bytes (``serialization.to_bytes``) plus an integrity record beside them (see
``records``), and the reference's ``DeprecationWarning``, in the same place.

Order of operations of a msgpack save:
  1. wait for the previous asynchronous save (bookkeeping must see its file);
  2. without ``overwrite``: refuse (``InvalidCheckpointError``) a step that is not
     newer than every checkpoint already in the directory;
  3. serialize on the calling thread (a consistent snapshot);
  4. commit (in the background with an ``AsyncManager``), holding the writer
     lock of the name: the integrity record (also accepting the digest of the
     file being replaced, if any), then the bytes (temporary file, fsync,
     rename, fsync of the directory), then the record with the new digest
     alone; only then delete checkpoints newer than it (with ``overwrite``) and
     old ones beyond ``keep``, and the helper files of dead writers.

A crash at any point leaves the previous checkpoints intact and never a partial
or unverifiable file under a checkpoint name. Commits to one directory are
serialized inside the process (a lock per directory), so concurrent saves keep
``keep`` exact.

Pruning follows the reference exactly: with ``overwrite``, checkpoints after
the saved one go; then of the checkpoints before the newest ``keep``, each is
kept when ``keep_every_n_steps`` is set, its step is non-zero and at least
that many steps after the last one kept (so step 0 is never among them), and
deleted otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from typing import Any

import jax

from flaxen._src import errors, io
from flaxen._src.config import config
from flaxen._src.public import set_module
from flaxen._src.serialization.bytes_api import to_bytes
from flaxen._src.training import orbax_utils
from flaxen._src.training.checkpoints import atomic, naming, orbax_bridge, pending, records
from flaxen._src.training.checkpoints.async_manager import AsyncManager

_log = logging.getLogger('flaxen.training.checkpoints')
_dir_locks_guard = threading.Lock()
_dir_locks: dict[str, threading.Lock] = {}
LEGACY_DEPRECATION = (
  'Flax Checkpointing will soon be deprecated in favor of Orbax (https://github.com/google/orbax). '
  'Please refer to the Checkpoint Upgrade Guide '
  '(https://flax.readthedocs.io/en/latest/guides/converting_and_upgrading/orbax_upgrade_guide.html)'
  ' to self-migrate your code to ocp.'
)
_HANG_WARNING = (
  'Multiple JAX processes detected when calling single-process `save_checkpoint`. Your devices '
  'will HANG if this function is only called on process 0! Troubleshoot at: '
  'https://flax.readthedocs.io/en/latest/guides/training_techniques/use_checkpointing.html'
  '#if-your-devices-hang-when-writing-checkpoints'
)


def _dir_lock(directory: str) -> threading.Lock:
  key = os.path.realpath(directory) if io.is_local() else directory
  with _dir_locks_guard:
    return _dir_locks.setdefault(key, threading.Lock())


def use_orbax(orbax_checkpointer: Any) -> bool:
  """Whether a save goes through Orbax (explicit checkpointer or the config flag)."""
  return bool(config.flax_use_orbax_checkpointing) or orbax_checkpointer is not None


def check_not_outdated(path: str, ckpt_dir: str, prefix: str, step: Any) -> None:
  """Raises ``InvalidCheckpointError`` unless ``path`` would be the newest checkpoint."""
  existing = naming.all_checkpoints(ckpt_dir, prefix)
  if path in existing or naming.natural_sort([*existing, path])[-1] != path:
    raise errors.InvalidCheckpointError(path, step)


def delete_checkpoint(path: str) -> None:
  """Deletes one checkpoint (file or directory), its integrity record and its ``_gda`` directory."""
  _log.info('Removing checkpoint at %s', path)
  atomic.remove_entry(path)
  if io.is_local():
    with contextlib.suppress(FileNotFoundError):
      os.unlink(naming.helper_path(path, 'record'))
  gda = f'{path}_gda'
  if io.isdir(gda):
    atomic.remove_entry(gda)


def prune(path: str, ckpt_dir: str, prefix: str, keep: int, overwrite: bool,
          keep_every_n_steps: Any) -> None:
  """Deletes checkpoints after ``path`` (with ``overwrite``) and those beyond ``keep``."""
  files = naming.all_checkpoints(ckpt_dir, prefix)
  if overwrite and path in files:
    cut = files.index(path) + 1
    for newer in files[cut:]:
      delete_checkpoint(newer)
    files = files[:cut]
  if len(files) <= keep:
    return
  last_kept = -float('inf')
  for old in files[:-keep]:
    if keep_every_n_steps:
      step = float(os.path.basename(old)[len(prefix):])
      if step and step - last_kept >= keep_every_n_steps:
        last_kept = step
        continue
    delete_checkpoint(old)


def write_msgpack(path: str, payload: bytes, overwrite: bool) -> None:
  """Record, bytes, final record: the commit of one msgpack checkpoint (see the module doc)."""
  with atomic.WriterLock(path) as lock:
    records.publish(path, records.digest(payload),
                    lambda: atomic.write_file(path, payload, overwrite, lock.token), lock.token)


def _orbax_save(path, ckpt_dir, prefix, target, keep, overwrite, keep_every_n_steps,
                orbax_checkpointer, multiprocess: bool) -> None:
  _log.info(
    'Using Orbax as backend to save Flax checkpoints. For potential troubleshooting see: '
    'https://flax.readthedocs.io/en/latest/guides/training_techniques/use_checkpointing.html'
    '#orbax-as-backend-troubleshooting')
  if jax.process_count() > 1 and not multiprocess:
    _log.warning(_HANG_WARNING)
  checkpointer = orbax_bridge.check_target(target, orbax_checkpointer)
  io.makedirs(ckpt_dir)
  with _dir_lock(ckpt_dir), atomic.WriterLock(path) as lock:
    if multiprocess:
      checkpointer.save(orbax_bridge.absolute(path), target, force=overwrite)
      sealed = False
    else:
      sealed = orbax_bridge.save(path, target, overwrite, checkpointer, lock.token)

  def finish() -> None:
    if jax.process_index() != 0:
      return
    with _dir_lock(ckpt_dir):
      if not sealed and io.is_local() and io.isdir(path):
        with atomic.WriterLock(path) as lock:
          records.seal(path, lock.token)
      prune(path, ckpt_dir, prefix, keep, overwrite, keep_every_n_steps)
      atomic.sweep(ckpt_dir)

  ocp = orbax_utils.import_orbax()
  if isinstance(checkpointer, ocp.AsyncCheckpointer):
    # prune only once Orbax committed the new checkpoint, never before
    thread = threading.Thread(
      target=lambda: (checkpointer.wait_until_finished(), finish()),  # type: ignore[func-returns-value]
      name='flaxen-orbax-prune')
    thread.start()
    pending.add(ckpt_dir, thread.join)
  else:
    finish()


def save_prepared(ckpt_dir: str | os.PathLike, target: Any, step: Any, prefix: str, keep: Any,
                  overwrite: bool, keep_every_n_steps: Any, async_manager: AsyncManager | None,
                  orbax_checkpointer: Any, multiprocess: bool = False) -> str:
  """``save_checkpoint`` after argument checks (shared with ``save_checkpoint_multiprocess``)."""
  keep = naming.as_index(keep, 'keep')
  text = naming.step_text(step)
  ckpt_dir, prefix = naming.split_prefix(naming.safe_normpath(os.fspath(ckpt_dir)), prefix)
  path = naming.checkpoint_path(ckpt_dir, text, prefix)
  _log.info('Saving checkpoint at step: %s', text)
  if async_manager is not None:
    async_manager.wait_previous_save()
  if use_orbax(orbax_checkpointer):
    _orbax_save(path, ckpt_dir, prefix, target, keep, overwrite, keep_every_n_steps,
                orbax_checkpointer, multiprocess)
    return path
  warnings.warn(LEGACY_DEPRECATION, DeprecationWarning, stacklevel=1)
  lock = async_manager.lock if async_manager is not None else contextlib.nullcontext()
  with lock:
    if async_manager is not None:
      async_manager.wait_previous_save()
    io.makedirs(ckpt_dir)
    if not overwrite:
      check_not_outdated(path, ckpt_dir, prefix, step)
    payload = to_bytes(target)
    if multiprocess and jax.process_index() != 0:
      return path

    def commit() -> None:
      with _dir_lock(ckpt_dir):
        write_msgpack(path, payload, overwrite)
        _log.info('Saved checkpoint at %s', path)
        prune(path, ckpt_dir, prefix, keep, overwrite, keep_every_n_steps)
        atomic.sweep(ckpt_dir)

    if async_manager is not None:
      async_manager.save_async(commit)
      pending.add(ckpt_dir, async_manager.pending())
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

  Every process that calls this writes its own checkpoint; for several
  processes sharing a directory use ``save_checkpoint_multiprocess``. By default
  (``flax_use_orbax_checkpointing``, on as in the reference) the checkpoint is
  an Orbax directory; with the flag off it is a msgpack file holding
  ``serialization.to_bytes(target)`` with an integrity record beside it. Either
  appears atomically: a crash never leaves a partial checkpoint.

  Args:
    ckpt_dir: directory of the checkpoints (created if missing).
    target: any serializable object (dict, list, ``TrainState``, ...); Orbax
      needs a pytree, not a single leaf.
    step: training step (int) or another finite number (a float metric)
      naming the checkpoint; anything else (``None``, ``'abc'``, ``True``,
      ``inf``, ``nan``) raises ``ValueError``.
    prefix: checkpoint name prefix.
    keep: how many of the newest checkpoints to keep.
    overwrite: allow saving at a step that is not newer than existing ones;
      the checkpoint of ``step`` is replaced and newer checkpoints are deleted.
    keep_every_n_steps: additionally keep one checkpoint every this many steps.
    async_manager: if given, write in a background thread (see
      ``AsyncManager``); the target is serialized before this returns.
    orbax_checkpointer: save through this Orbax checkpointer.

  Returns:
    The path of the checkpoint.

  Raises:
    InvalidCheckpointError: (msgpack) without ``overwrite``, a checkpoint at
      ``step`` or a later step exists.
    ValueError: an invalid step; (Orbax) a single leaf as target, or a
      checkpoint of this step exists and ``overwrite`` is False.

  Example:
    >>> import tempfile, numpy as np
    >>> from flaxen.training import checkpoints
    >>> d = tempfile.mkdtemp()
    >>> for step in range(3):
    ...   _ = checkpoints.save_checkpoint(d, {'w': np.full(2, step)}, step, keep=2)
    >>> checkpoints.available_steps(d)
    [1, 2]
  """
  return save_prepared(ckpt_dir, target, step, prefix, keep, overwrite, keep_every_n_steps,
                       async_manager, orbax_checkpointer)
