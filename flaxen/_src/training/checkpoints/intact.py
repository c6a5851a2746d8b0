"""Is a checkpoint intact? One answer for ``latest_checkpoint`` and ``restore_checkpoint``.

A path with a checkpoint name is *intact* when:

* it is a regular file (or a link to one) whose bytes match its integrity
  record and decode as msgpack; without a record (reference-written), when its
  bytes decode in full (a one-time notice says they cannot be verified);
* or it is a directory (or a link to one) that Orbax committed (see
  ``orbax_bridge.uncommitted_reason``) whose files match its integrity record
  (or that has no record: unverified, with the same notice).

Anything else is damaged, with a reason: a FIFO, socket or device (never
opened, so a FIFO cannot hang the reader), a dangling symlink, a symlink loop,
an unreadable file, a truncated or edited file, a plain directory, an Orbax
directory that was never committed. ``latest_checkpoint`` and
``restore_checkpoint(ckpt_dir)`` skip damaged checkpoints; naming one
explicitly raises ``CheckpointCorruptedError`` naming the newest intact one.

The answers are cached per process, keyed by the identity, size and
modification time of the file (every file, for a directory) and of its record,
so asking twice reads once.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flaxen._src import io
from flaxen._src.errors.checkpoint import CheckpointCorruptedError
from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.serialization.msgpack_codec import msgpack_restore
from flaxen._src.training.checkpoints import naming, orbax_bridge, records

_PARALLEL_CHUNK = 32 * 1024 * 1024
_cache_lock = threading.Lock()
_cache: dict[tuple, str | None] = {}
_CACHE_MAX = 1024


class Damaged(Exception):
  """Internal: the checkpoint at hand is not intact (the message is the reason)."""


def kind(path: str) -> str:
  """``'file'`` or ``'dir'``; raises ``Damaged`` for anything else (without opening it)."""
  if not io.is_local():
    if io.isdir(path):
      return 'dir'
    if io.exists(path):
      return 'file'
    raise Damaged('it does not exist')
  try:
    st = os.stat(path)
  except FileNotFoundError:
    raise Damaged('a dangling symlink' if os.path.lexists(path) else 'it does not exist') from None
  except OSError as e:
    if e.errno == errno.ELOOP:
      raise Damaged('a symlink loop') from None
    raise Damaged(f'it cannot be examined: {e}') from None
  if stat.S_ISDIR(st.st_mode):
    return 'dir'
  if stat.S_ISREG(st.st_mode):
    return 'file'
  raise Damaged('not a regular file (a FIFO, socket or device file)')


def read_bytes(path: str, parallel: bool = True) -> Any:
  """The bytes of file ``path`` (large local files are read by several threads)."""
  if not io.is_local():
    with io.GFile(path, 'rb') as f:
      return f.read()
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


def load_file(path: str, parallel: bool = True) -> Any:
  """Reads, verifies and decodes the msgpack checkpoint ``path``; raises ``Damaged``."""
  try:
    data = read_bytes(path, parallel)
  except OSError as e:
    raise Damaged(f'it cannot be read: {e}') from None
  try:
    verified = records.verify(path, data)
  except records.Damaged as e:
    raise Damaged(str(e)) from None
  if not verified:
    records.notice_unverified(path)
  try:
    return msgpack_restore(data)
  except MsgpackDecodeError as e:
    raise Damaged(f'it does not decode: {e.message}') from None


def check_dir(path: str) -> None:
  """Raises ``Damaged`` unless directory ``path`` is a committed, intact Orbax checkpoint."""
  reason = orbax_bridge.uncommitted_reason(path)
  if reason is not None:
    raise Damaged(reason)
  if not io.is_local():
    return
  try:
    verified = records.verify_tree(path)
  except (records.Damaged, OSError) as e:
    raise Damaged(str(e)) from None
  if not verified:
    records.notice_unverified(path)


def _stat_key(path: str) -> tuple | None:
  try:
    st = os.stat(path)
  except OSError:
    return None
  return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _cache_key(path: str, is_dir: bool) -> tuple | None:
  if not io.is_local():
    return None
  content: tuple | None
  if is_dir:
    try:
      files = records.tree_files(path)
    except OSError:
      return None
    content = tuple((f, _stat_key(os.path.join(path, f))) for f in files)
  else:
    content = _stat_key(path)
  return (path, is_dir, content, _stat_key(naming.helper_path(path, 'record')))


def damage(path: str) -> str | None:
  """None if checkpoint ``path`` is intact, else the reason (see the module doc)."""
  try:
    is_dir = kind(path) == 'dir'
  except Damaged as e:
    return str(e)
  key = _cache_key(path, is_dir)
  if key is not None:
    with _cache_lock:
      if key in _cache:
        return _cache[key]
  try:
    check_dir(path) if is_dir else load_file(path)
    reason = None
  except Damaged as e:
    reason = str(e)
  if key is not None:
    with _cache_lock:
      if len(_cache) >= _CACHE_MAX:
        _cache.clear()
      _cache[key] = reason
  return reason


def newest_intact(ckpt_dir: str, prefix: str, skip: str | None = None) -> str | None:
  """The newest intact checkpoint of ``ckpt_dir`` (other than ``skip``), or None."""
  for path in reversed(naming.all_checkpoints(ckpt_dir, prefix)):
    if path != skip and damage(path) is None:
      return path
  return None


def prefix_of(path: str) -> str | None:
  """The prefix of a ``<prefix><number>`` name (None if it is not one)."""
  name = os.path.basename(path)
  match = naming.SIGNED_FLOAT_RE.search(name)
  while match is not None:
    if naming.step_suffix(name, name[: match.start()]) is not None:
      return name[: match.start()]
    match = naming.SIGNED_FLOAT_RE.search(name, match.start() + 1)
  return None


def corrupted(path: str, reason: str, prefix: str | None = None) -> CheckpointCorruptedError:
  """The error for damaged checkpoint ``path``, naming its newest intact neighbour."""
  name = os.path.basename(path)
  if prefix is None or naming.step_suffix(name, prefix) is None:
    prefix = prefix_of(path)
  fallback = None
  if prefix is not None:
    fallback = newest_intact(os.path.dirname(path) or '.', prefix, skip=path)
  return CheckpointCorruptedError(path, reason, fallback)
