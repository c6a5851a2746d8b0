"""Crash-safe file writes: a checkpoint name only ever points at complete bytes.

``atomic_write(path, data)``:
  1. writes ``data`` to a temporary file in the *same directory*
     (``naming.tmp_path``: starts with a dot, never a checkpoint name);
  2. flushes and ``fsync``s it;
  3. renames it onto ``path`` with ``os.replace`` (atomic on POSIX and Windows
     within one file system; with ``overwrite=False`` it uses ``os.link`` so an
     existing file is never replaced and ``AlreadyExistsError`` is raised);
  4. ``fsync``s the directory so the rename itself survives a power cut.

A process killed at any point leaves either the old state or the new file, plus
at worst a stray temporary file. ``remove_stale_tmp_files`` deletes temporaries
whose writer process no longer runs (on this machine), and those of this process
that are not being written right now.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading

from flaxen._src import errors
from flaxen._src.training.checkpoints import naming

_live_lock = threading.Lock()
_live_tmp: set[str] = set()  # temporaries this process is writing right now


def fsync_dir(path: str) -> None:
  """``fsync`` a directory (no-op where directories cannot be opened, e.g. Windows)."""
  try:
    fd = os.open(path, os.O_RDONLY)
  except OSError:
    return
  try:
    os.fsync(fd)
  except OSError:
    pass
  finally:
    os.close(fd)


def atomic_write(path: str, data: bytes | memoryview, overwrite: bool = True) -> None:
  """Writes ``data`` to ``path`` so that ``path`` is never seen incomplete.

  Args:
    path: final file name.
    data: the bytes.
    overwrite: replace an existing ``path``; if False and it exists, raise.

  Raises:
    AlreadyExistsError: ``overwrite`` is False and ``path`` exists.
  """
  directory = os.path.dirname(path) or '.'
  tmp = naming.tmp_path(path, secrets.token_hex(4))
  with _live_lock:
    _live_tmp.add(tmp)
  try:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
      view = memoryview(data)
      while view:
        written = os.write(fd, view)
        view = view[written:]
      os.fsync(fd)
    finally:
      os.close(fd)
    if overwrite:
      os.replace(tmp, path)
    else:
      try:
        os.link(tmp, path)  # fails instead of replacing an existing file
      except FileExistsError:
        raise errors.AlreadyExistsError(path) from None
      except OSError:  # file system without hard links: check, then rename
        if os.path.exists(path):
          raise errors.AlreadyExistsError(path) from None
        os.replace(tmp, path)
    fsync_dir(directory)
  finally:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    with _live_lock:
      _live_tmp.discard(tmp)


def _pid_alive(pid: int) -> bool:
  if pid == os.getpid():
    return True
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # exists, owned by someone else
  except OSError:
    return True
  return True


def remove_stale_tmp_files(directory: str) -> list[str]:
  """Deletes temporaries left behind by interrupted saves in ``directory``.

  A temporary is stale when the process named in it is gone, or when it is this
  process and no write of this process uses it.

  Returns:
    The removed paths.
  """
  removed = []
  try:
    names = os.listdir(directory)
  except OSError:
    return removed
  me = os.getpid()
  for name in names:
    pid = naming.tmp_owner_pid(name)
    if pid is None:
      continue
    path = os.path.join(directory, name)
    if pid == me:
      with _live_lock:
        if path in _live_tmp:
          continue
    elif _pid_alive(pid):
      continue
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
      os.unlink(path)
      removed.append(path)
  return removed
