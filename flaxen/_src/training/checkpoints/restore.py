"""``restore_checkpoint`` and ``latest_checkpoint``: read back, never half a state.

Which file:
  * ``step`` given: ``<ckpt_dir>/<prefix><step>``; missing -> ``ValueError``;
  * otherwise, if ``ckpt_dir`` is a directory: its newest checkpoint by name
    (natural order); none -> ``target`` is returned unchanged;
  * otherwise ``ckpt_dir`` is the checkpoint file itself; a missing path (file or
    directory not created yet) returns ``target`` unchanged.

Damaged files (documented behaviour): restoring a file that is not exactly one
complete msgpack object, or that does not decode, raises
``CheckpointCorruptedError`` naming the file and the newest complete checkpoint
next to it; nothing is returned. Restoring *the newest* checkpoint never falls
back silently to an older step: the caller decides (``err.fallback``).
``latest_checkpoint`` only returns complete files: it skips files that are not
exactly one complete msgpack object (truncated, empty, trailing bytes, broken
headers; checked without reading array data) and logs a warning, so
``restore_checkpoint(latest_checkpoint(d))`` resumes from the last good
checkpoint. Damage that keeps the framing intact (a corrupted dtype name, an
array header that disagrees with its payload) is caught by the full decode of
``restore_checkpoint``; flipped bits inside array data cannot be detected (the
format has no checksum).

Decoding happens entirely before ``from_state_dict``; ``strict=True`` compares
the decoded state with the target first and reports every difference at once.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.serialization.msgpack_codec import msgpack_restore
from flaxen._src.serialization.state_dict import from_state_dict
from flaxen._src.training.checkpoints import framing, naming, orbax_bridge
from flaxen._src.errors.checkpoint import CheckpointCorruptedError
from flaxen._src.training.checkpoints.save import split_prefix
from flaxen._src.training.checkpoints.strict import verify_state

_log = logging.getLogger(__name__)
_PUBLIC = 'flaxen.training.checkpoints'
_PARALLEL_CHUNK = 32 * 1024 * 1024


def _complete(path: str) -> str | None:
  """None if ``path`` is a complete checkpoint, else the reason it is not."""
  if os.path.isdir(path):
    return None if orbax_bridge.looks_like_orbax(path) else 'not an Orbax checkpoint directory'
  try:
    framing.check_complete(path)
  except (framing.IncompleteFile, OSError) as e:
    return str(e)
  return None


def _latest_complete(ckpt_dir: str, prefix: str, skip: str | None = None) -> str | None:
  skip = os.path.normpath(skip) if skip is not None else None
  for path in reversed(naming.all_checkpoints(ckpt_dir, prefix)):
    if os.path.normpath(path) == skip:
      continue
    reason = _complete(path)
    if reason is None:
      return path
    _log.warning('Skipping damaged checkpoint %s: %s', path, reason)
  return None


@set_module(_PUBLIC)
def latest_checkpoint(ckpt_dir: str | os.PathLike, prefix: str = 'checkpoint_') -> str | None:
  """The newest *complete* checkpoint in ``ckpt_dir``, or None.

  Files that are truncated or otherwise not one complete msgpack object are
  skipped (with a logged warning); temporary files are never considered. The
  check reads object headers only, so it is cheap even for huge files.

  Args:
    ckpt_dir: the checkpoint directory.
    prefix: checkpoint file name prefix.
  """
  ckpt_dir, prefix = split_prefix(os.fspath(ckpt_dir), prefix)
  return _latest_complete(ckpt_dir, prefix)


def _read_bytes(path: str, parallel: bool) -> bytes | bytearray:
  size = os.path.getsize(path)
  if not parallel or size <= _PARALLEL_CHUNK or not hasattr(os, 'preadv'):
    with open(path, 'rb') as f:
      return f.read()
  buf = bytearray(size)
  view = memoryview(buf)
  fd = os.open(path, os.O_RDONLY)
  try:
    def read_chunk(start: int) -> int:
      end = min(start + _PARALLEL_CHUNK, size)
      done = start
      while done < end:
        n = os.preadv(fd, [view[done:end]], done)
        if n == 0:
          raise OSError(f'{path} shrank while it was being read')
        done += n
      return done - start

    with ThreadPoolExecutor(max_workers=min(8, -(-size // _PARALLEL_CHUNK))) as pool:
      total = sum(pool.map(read_chunk, range(0, size, _PARALLEL_CHUNK)))
  finally:
    os.close(fd)
  if total != size:
    raise OSError(f'read {total} of {size} bytes of {path}')
  return buf


def read_state_dict(path: str, parallel: bool = True, prefix: str | None = None) -> Any:
  """Decodes the msgpack checkpoint file ``path`` into a state dict.

  Args:
    path: the file.
    parallel: read large files with several threads.
    prefix: the checkpoint prefix of the file name (inferred when None); used to
      name the newest complete neighbour in the error message.

  Raises:
    CheckpointCorruptedError: the file is incomplete or does not decode.
  """
  ckpt_dir = os.path.dirname(path) or '.'
  name = os.path.basename(path)
  if prefix is None or naming.step_suffix(name, prefix) is None:
    prefix = _prefix_of(path)

  def corrupted(reason: str) -> CheckpointCorruptedError:
    fallback = _latest_complete(ckpt_dir, prefix, skip=path) if prefix is not None else None
    return CheckpointCorruptedError(path, reason, fallback)

  try:
    framing.check_complete(path)
  except framing.IncompleteFile as e:
    raise corrupted(str(e)) from None
  data = _read_bytes(path, parallel)
  try:
    return msgpack_restore(data)
  except MsgpackDecodeError as e:
    raise corrupted(f'cannot decode: {e.message}') from e


def _prefix_of(path: str) -> str | None:
  """The prefix of a ``<prefix><number>`` file name (None if it is not one)."""
  name = os.path.basename(path)
  match = naming.SIGNED_FLOAT_RE.search(name)
  while match is not None:
    if naming.step_suffix(name, name[:match.start()]) is not None:
      return name[:match.start()]
    match = naming.SIGNED_FLOAT_RE.search(name, match.start() + 1)
  return None


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
  """Restores the newest (or the given) checkpoint into the structure of ``target``.

  The newest checkpoint is the highest step by natural sort (``ckpt_1, ckpt_2,
  ckpt_3 -> ckpt_3``; ``ckpt_0.01, ckpt_0.1, ckpt_0.001 -> ckpt_0.1``;
  ``ckpt_-1.0, ckpt_1.0, ckpt_1e5 -> ckpt_1e5``).

  Args:
    ckpt_dir: a checkpoint directory, or the path of one checkpoint file.
    target: an object with the saved structure (its leaf values are ignored),
      or None to get the raw state dict (nested dicts with string keys; lists
      and tuples become ``{'0': ..., '1': ...}``; arrays come back as numpy).
    step: the step to load (``ckpt_dir`` must then be a directory), or None for
      the newest.
    prefix: checkpoint file name prefix.
    parallel: read large files with several threads.
    gda_manager: unused (multi-process arrays are restored through Orbax);
      accepted for signature compatibility.
    allow_partial_mpa_restoration: unused, as ``gda_manager``.
    orbax_checkpointer: the Orbax checkpointer for Orbax-format checkpoints.
    orbax_transforms: Orbax ``transforms`` passed to its restore.
    strict: (msgpack checkpoints) compare the file with ``target`` first and raise
      ``CheckpointMismatchError`` listing every missing, unexpected, shape-,
      dtype- and kind-mismatched entry (instead of the reference's behaviour:
      fail at the first missing entry, silently ignore extra entries).

  Returns:
    The restored object; ``target`` itself when there is nothing to restore.

  Raises:
    ValueError: ``step`` was given and that checkpoint does not exist.
    CheckpointCorruptedError: the chosen file is incomplete or damaged.
    CheckpointMismatchError: ``strict`` and the file does not fit ``target``.
  """
  del gda_manager, allow_partial_mpa_restoration
  ckpt_dir = os.path.normpath(os.fspath(ckpt_dir))
  if step is not None:
    base, pfx = split_prefix(ckpt_dir, prefix)
    path = naming.checkpoint_path(base, step, pfx)
    if not os.path.exists(path):
      raise ValueError(f'Matching checkpoint not found: {path}')
  elif not os.path.exists(ckpt_dir):
    _log.info('Found no checkpoint directory at %s', ckpt_dir)
    return target
  elif os.path.isdir(ckpt_dir) and not orbax_bridge.looks_like_orbax(ckpt_dir):
    base, pfx = split_prefix(ckpt_dir, prefix)
    found = naming.all_checkpoints(base, pfx)
    if not found:
      _log.info('Found no checkpoint files in %s with prefix %s', base, pfx)
      return target
    path = found[-1]
  else:
    path = ckpt_dir
  _log.info('Restoring checkpoint from %s', path)
  if os.path.isdir(path):
    return orbax_bridge.restore(path, target, orbax_checkpointer, orbax_transforms)
  state = read_state_dict(path, parallel, os.path.basename(split_prefix(ckpt_dir, prefix)[1]))
  if target is None:
    return state
  if strict:
    verify_state(target, state, path)
  return from_state_dict(target, state)

