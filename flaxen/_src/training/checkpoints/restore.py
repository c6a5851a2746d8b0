"""``restore_checkpoint`` and ``latest_checkpoint``: read back the newest intact state, never garbage.

Which checkpoint:
  * ``step`` given: ``<ckpt_dir>/<prefix><step>``; missing -> ``ValueError``
    (the reference's message); damaged -> ``CheckpointCorruptedError``;
  * ``ckpt_dir`` is a directory of checkpoints: the newest *intact* one by
    natural order (see ``intact``). Damaged newer ones are skipped with a
    logged warning naming each and why, so a resumed run continues from the
    last good state; when every checkpoint is damaged,
    ``CheckpointCorruptedError``; when there is none, ``target`` is returned;
  * otherwise ``ckpt_dir`` is one checkpoint (a msgpack file or an Orbax
    directory); damaged -> ``CheckpointCorruptedError`` naming the newest
    intact checkpoint next to it; a missing path returns ``target`` unchanged
    (as for a directory not created yet).

Before looking, pending background saves into the directory made by this
process (an ``AsyncManager``, an Orbax ``AsyncCheckpointer``) are waited for.

Restoring: a msgpack checkpoint is read once, verified against its integrity
record, decoded, then (``strict=True``) compared with the target, every
difference reported at once, and rebuilt with ``from_state_dict``. Orbax
checkpoints are read as the reference reads them (see ``orbax_bridge``).
Errors of fitting the state to the target (``StateMismatchError``,
``CheckpointMismatchError``, Orbax's structure errors) are not damage: they are
raised, never skipped.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flaxen._src import io
from flaxen._src.public import set_module
from flaxen._src.serialization.state_dict import from_state_dict
from flaxen._src.training.checkpoints import intact, naming, orbax_bridge, pending
from flaxen._src.training.checkpoints.strict import verify_state

_log = logging.getLogger('flaxen.training.checkpoints')
_PUBLIC = 'flaxen.training.checkpoints'


@set_module(_PUBLIC)
def latest_checkpoint(ckpt_dir: str | os.PathLike, prefix: str = 'checkpoint_') -> str | None:
  """The newest *intact* checkpoint in ``ckpt_dir``, or None.

  Damaged checkpoints (see ``CheckpointCorruptedError``) are skipped with a
  logged warning; helper and temporary files are never considered. Checking a
  msgpack checkpoint reads it (to compare it with its integrity record).

  Args:
    ckpt_dir: the checkpoint directory.
    prefix: checkpoint name prefix.
  """
  base, pfx = naming.split_prefix(naming.safe_normpath(os.fspath(ckpt_dir)), prefix)
  pending.wait_for(base)
  for path in reversed(naming.all_checkpoints(base, pfx)):
    reason = intact.damage(path)
    if reason is None:
      return path
    _log.warning('Skipping damaged checkpoint %s: %s', path, reason)
  return None


def _load(path: str, target: Any, parallel: bool, strict: bool, checkpointer: Any,
          transforms: Any) -> Any:
  """Restores one checkpoint; raises ``intact.Damaged`` if it is not intact."""
  if intact.kind(path) == 'dir':
    reason = intact.damage(path)
    if reason is not None:
      raise intact.Damaged(reason)
    _log.info('Restoring orbax checkpoint from %s', path)
    try:
      if strict and target is not None:
        verify_state(target, orbax_bridge.restore(path, None, checkpointer), path,
                     empty_is_none=True)
      return orbax_bridge.restore(path, target, checkpointer, transforms)
    except OSError as e:
      raise intact.Damaged(f'Orbax cannot read it: {e}') from e
  _log.info('Restoring legacy Flax checkpoint from %s', path)
  state = intact.load_file(path, parallel)
  if target is None:
    return state
  if strict:
    verify_state(target, state, path)
  return from_state_dict(target, state)


@set_module(_PUBLIC)
def restore_checkpoint(
  ckpt_dir: str | os.PathLike,
  target: Any,
  step: int | float | None = None,
  prefix: str = 'checkpoint_',
  parallel: bool = True,
  gda_manager: Any = None,
  allow_partial_mpa_restoration: bool = False,
  orbax_checkpointer: Any = None,
  orbax_transforms: Any = None,
  *,
  strict: bool = False,
) -> Any:
  """Restores the newest intact (or the given) checkpoint into the structure of ``target``.

  The newest checkpoint is the highest step by natural sort (``ckpt_1, ckpt_2,
  ckpt_3 -> ckpt_3``; ``ckpt_0.01, ckpt_0.1, ckpt_0.001 -> ckpt_0.1``;
  ``ckpt_-1.0, ckpt_1.0, ckpt_1e5 -> ckpt_1e5``), skipping damaged ones.

  Args:
    ckpt_dir: a checkpoint directory, or the path of one checkpoint.
    target: an object with the saved structure (its leaf values are ignored),
      or None to get the raw state dict (nested dicts with string keys; lists
      and tuples become ``{'0': ..., '1': ...}``).
    step: the step to load (``ckpt_dir`` must then be a directory), or None for
      the newest.
    prefix: checkpoint name prefix.
    parallel: read large msgpack files with several threads.
    gda_manager: unused (arrays that span processes are restored through
      Orbax); accepted for signature compatibility.
    allow_partial_mpa_restoration: unused, as ``gda_manager``.
    orbax_checkpointer: the Orbax checkpointer for Orbax checkpoints.
    orbax_transforms: Orbax ``transforms`` passed to its restore.
    strict: compare the checkpoint with ``target`` first and raise
      ``CheckpointMismatchError`` listing every missing, unexpected, shape-,
      dtype- and kind-mismatched entry (a saved ``None``, string or number
      where the target holds an array is a kind mismatch), instead of the
      reference's behaviour: fail at the first missing entry, ignore the rest.

  Returns:
    The restored object; ``target`` itself when there is nothing to restore.

  Raises:
    ValueError: ``step`` was given and that checkpoint does not exist.
    CheckpointCorruptedError: the checkpoint named (by path or step) is
      damaged, or every checkpoint of the directory is.
    CheckpointMismatchError: ``strict`` and the checkpoint does not fit ``target``.
  """
  del gda_manager, allow_partial_mpa_restoration
  orbax_bridge.wait_if_async(orbax_checkpointer)  # a save through it may still be running
  ckpt_dir = naming.safe_normpath(os.fspath(ckpt_dir))
  base, pfx = naming.split_prefix(ckpt_dir, prefix)
  args = (target, parallel, strict, orbax_checkpointer, orbax_transforms)
  if step is not None:
    path = naming.checkpoint_path(base, step, pfx)
    pending.wait_for(base)
    if not io.exists(path) and not (io.is_local() and os.path.lexists(path)):
      raise ValueError(f'Matching checkpoint not found: {path}')
    return _explicit(path, pfx, args)
  pending.wait_for(base)
  pending.wait_for(os.path.dirname(ckpt_dir) or '.')
  if not io.exists(ckpt_dir) and not (io.is_local() and os.path.lexists(ckpt_dir)):
    _log.info('Found no checkpoint directory at %s', ckpt_dir)
    return target
  if io.isdir(ckpt_dir) and not orbax_bridge.looks_like_orbax(ckpt_dir):
    return _newest(base, pfx, args)
  return _explicit(ckpt_dir, pfx, args)


def _explicit(path: str, prefix: str, args: tuple) -> Any:
  try:
    return _load(path, *args)
  except intact.Damaged as e:
    raise intact.corrupted(path, str(e), prefix) from None


def _newest(ckpt_dir: str, prefix: str, args: tuple) -> Any:
  found = naming.all_checkpoints(ckpt_dir, prefix)
  if not found:
    _log.info('Found no checkpoint files in %s with prefix %s', ckpt_dir, prefix)
    return args[0]
  damaged: list[tuple[str, str]] = []
  for path in reversed(found):
    try:
      restored = _load(path, *args)
    except intact.Damaged as e:
      _log.warning('Skipping damaged checkpoint %s: %s', path, e)
      damaged.append((path, str(e)))
      continue
    if damaged:
      _log.warning('Restored %s: the newer checkpoint(s) %s are damaged.', path,
                   ', '.join(p for p, _ in damaged))
    return restored
  newest, reason = damaged[0]
  raise intact.corrupted(newest, f'{reason}; and every older checkpoint is damaged too', prefix)
