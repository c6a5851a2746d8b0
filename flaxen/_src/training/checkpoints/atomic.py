"""Crash-safe writes and removals, and the clean-up of what interrupted writers leave behind.

Invariant: a checkpoint name only ever points at complete bytes (or a complete,
committed Orbax directory), and a process killed at any instant leaves either
the old state or the new one, plus at worst hidden helper files.

* ``WriterLock``: while a process writes (or deletes) checkpoint ``<name>`` it
  holds an exclusive ``flock`` on ``.<name>.flaxen-lock-<pid>-<token>``. Every
  helper file of that write carries the same random ``token``. The kernel drops
  the lock when the process dies, even by SIGKILL, and it does so for processes
  in other containers sharing the volume too, so liveness never depends on
  process ids (two containers can both be pid 1).
* ``write_file``: data goes to ``.<name>.flaxen-tmp-<pid>-<token>`` (created with
  ``O_EXCL``), is ``fsync``ed, then renamed onto the name (``os.replace``; with
  ``overwrite=False`` a hard link, so an existing file is never replaced and
  ``AlreadyExistsError`` is raised), then the directory is ``fsync``ed.
* ``remove_entry``: a checkpoint is first renamed to
  ``.<name>.flaxen-trash-<token>`` (atomic), then deleted; a half-deleted
  Orbax directory never keeps a checkpoint name.
* ``sweep``: removes helper files of *dead* writers only: those whose lock file
  can be locked (nobody holds it) and that are older than ``GRACE_S`` (which
  covers the instant between creating a lock file and locking it). Orbax's
  temporary directories carry no token; they are removed when no flaxen writer
  holds a lock for their checkpoint and they are older than ``ORBAX_GRACE_S``.
  Where ``flock`` does not exist (Windows) helper files are only removed after
  ``NO_LOCK_GRACE_S``.

With the remote backend of ``flaxen.io`` (``BackendMode.TF``) writes go through
``GFile`` and ``rename``; there are no locks and nothing is swept.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from typing import Any

from flaxen._src import errors, io
from flaxen._src.training.checkpoints import naming

fcntl: Any  # the module, or None where there is none
try:
  import fcntl
except ImportError:  # Windows
  fcntl = None

GRACE_S = 2.0
ORBAX_GRACE_S = 600.0
NO_LOCK_GRACE_S = 86400.0


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


class WriterLock:
  """Held by a process while it writes or deletes one checkpoint (see the module doc).

  Attributes:
    token: the random token shared by every helper file of this write.
  """

  def __init__(self, path: str):
    self.path = path
    self.token = secrets.token_hex(8)
    self.lock_path = naming.helper_path(path, 'lock', self.token)
    self._fd: int | None = None

  def __enter__(self) -> WriterLock:
    if io.is_local():
      self._fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
      if fcntl is not None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
    return self

  def __exit__(self, *exc) -> None:
    if self._fd is not None:
      with contextlib.suppress(FileNotFoundError):
        os.unlink(self.lock_path)  # first: nobody ever sees our lock file unlocked
      os.close(self._fd)
      self._fd = None


def write_file(path: str, data: Any, overwrite: bool, token: str) -> None:
  """Writes ``data`` to ``path`` so that ``path`` is never seen incomplete.

  Args:
    path: final name.
    data: a bytes-like object.
    overwrite: replace an existing ``path``; if False and it exists, raise.
    token: the ``WriterLock`` token of this write.

  Raises:
    AlreadyExistsError: ``overwrite`` is False and ``path`` exists.
  """
  tmp = naming.helper_path(path, 'tmp', token)
  if not io.is_local():
    with io.GFile(tmp, 'wb') as f:
      f.write(data)
    io.rename(tmp, path, overwrite=overwrite)
    return
  try:
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
      view = memoryview(data).cast('B')
      while view:
        view = view[os.write(fd, view):]
      os.fsync(fd)
    finally:
      os.close(fd)
    _commit(tmp, path, overwrite)
    fsync_dir(os.path.dirname(path) or '.')
  finally:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)


def _commit(tmp: str, path: str, overwrite: bool) -> None:
  if overwrite:
    os.replace(tmp, path)
    return
  try:
    os.link(tmp, path)  # fails instead of replacing an existing file
  except FileExistsError:
    raise errors.AlreadyExistsError(path) from None
  except OSError:  # a file system without hard links: check, then rename
    if os.path.lexists(path):
      raise errors.AlreadyExistsError(path) from None
    os.replace(tmp, path)


def remove_entry(path: str) -> None:
  """Deletes checkpoint ``path`` (file, directory or link); it loses its name first."""
  if not io.is_local():
    if io.isdir(path):
      io.rmtree(path)
    elif io.exists(path):
      io.remove(path)
    return
  with WriterLock(path) as lock:
    trash = naming.helper_path(path, 'trash', lock.token)
    try:
      os.rename(path, trash)
    except FileNotFoundError:
      return
    if os.path.isdir(trash) and not os.path.islink(trash):
      shutil.rmtree(trash, ignore_errors=True)
    else:
      with contextlib.suppress(FileNotFoundError):
        os.unlink(trash)
    fsync_dir(os.path.dirname(path) or '.')


def _age(path: str, now: float) -> float:
  try:
    return now - os.lstat(path).st_mtime
  except OSError:
    return -1.0


def _lock_is_free(path: str) -> bool | None:
  """True if nobody holds the lock file, False if someone does, None if unknowable."""
  if fcntl is None:
    return None
  try:
    fd = os.open(path, os.O_RDONLY)
  except OSError:
    return True  # gone already
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    return False
  except OSError:
    return None
  else:
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True
  finally:
    os.close(fd)


def discard(path: str) -> bool:
  """Deletes a hidden helper file or directory (no renaming needed); False if it was gone."""
  try:
    if os.path.isdir(path) and not os.path.islink(path):
      shutil.rmtree(path)
    else:
      os.unlink(path)
  except FileNotFoundError:
    return False
  except OSError:
    return False
  return True


def sweep(directory: str) -> list[str]:
  """Removes the helper files of dead writers in ``directory`` (see the module doc).

  Returns:
    The removed paths.
  """
  if not io.is_local():
    return []
  names = naming.list_names(directory)
  now = time.time()
  live_tokens, live_names, helpers, orbax_tmp = set(), set(), [], []
  for name in names:
    parsed = naming.parse_helper(name)
    path = os.path.join(directory, name)
    if parsed is None:
      owner = naming.orbax_tmp_owner(name)
      if owner is not None:
        orbax_tmp.append((path, owner))
      continue
    ckpt, kind, token = parsed
    if kind != 'lock':
      helpers.append((path, ckpt, kind, token))
      continue
    free = _lock_is_free(path)
    if free is False or (free is None and _age(path, now) < NO_LOCK_GRACE_S):
      live_tokens.add(token)
      live_names.add(ckpt)
    elif _age(path, now) >= GRACE_S:
      helpers.append((path, ckpt, kind, token))
    else:
      live_tokens.add(token)
      live_names.add(ckpt)
  grace = GRACE_S if fcntl is not None else NO_LOCK_GRACE_S
  removed = []
  existing = set(names)
  for path, ckpt, kind, token in helpers:
    if kind == 'record':
      stale = ckpt not in existing and ckpt not in live_names
    else:
      stale = token not in live_tokens
    if stale and _age(path, now) >= grace and discard(path):
      removed.append(path)
  for path, owner in orbax_tmp:
    if owner not in live_names and _age(path, now) >= ORBAX_GRACE_S and discard(path):
      removed.append(path)
  return removed
