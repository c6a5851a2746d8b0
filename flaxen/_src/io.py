"""The file-system layer (``flaxen.io``): local files, or ``tensorflow.io.gfile`` when chosen.

The reference library reads and writes checkpoints through a small shim that
mirrors ``tensorflow.io.gfile`` so that TensorFlow stays optional. This module
offers the same functions with the same behaviour:

* two backends, chosen by ``BackendMode``: ``DEFAULT`` (``os`` / ``shutil`` /
  ``glob``, local paths) and ``TF`` (``tensorflow.io.gfile``, which also reaches
  ``gs://`` and other remote file systems);
* the mode starts as ``TF`` when TensorFlow is installed and ``DEFAULT``
  otherwise; ``set_mode`` changes it for the whole process and
  ``override_mode`` for the duration of a ``with`` block (both process-wide,
  as in the reference). Any other value makes every call raise
  ``ValueError('Unknown IO Backend Mode.')``;
* ``copy`` and ``rename`` refuse to replace an existing destination unless
  ``overwrite=True`` (``errors.AlreadyExistsError``); ``makedirs`` is
  ``exist_ok``; ``glob`` strips trailing slashes; ``NotFoundError`` is the
  backend's "no such file" exception (``FileNotFoundError`` locally).

Unlike the reference, nothing is logged at import. Without TensorFlow, the
first remote-looking path (``gs://...``) used in ``DEFAULT`` mode logs the
reference's warning once, since the local backend cannot reach it. TensorFlow
itself is imported on first use of the ``TF`` backend, not at import time.

Invariant: this layer imports only the base layer (errors, public).
"""

from __future__ import annotations

import contextlib
import enum
import glob as glob_module
import importlib.util
import logging
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

from flaxen._src import errors
from flaxen._src.public import set_module

_PUBLIC = 'flaxen.io'
_log = logging.getLogger(__name__)
_SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9.+-]+://')
_NO_TF_WARNING = (
  'Tensorflow library not found, tensorflow.io.gfile operations will use native shim calls. '
  "GCS paths (i.e. 'gs://...') cannot be accessed."
)


@set_module(_PUBLIC)
class BackendMode(enum.Enum):
  """Which file-system backend ``flaxen.io`` uses: local files or ``tensorflow.io.gfile``."""

  DEFAULT = 0
  TF = 1


class _State:
  """The process-wide mode, and the lazily imported ``tensorflow.io.gfile``."""

  has_tf: bool = importlib.util.find_spec('tensorflow') is not None
  mode: Any = BackendMode.TF if has_tf else BackendMode.DEFAULT
  warned_remote: bool = False
  gfile: Any = None


def tf_gfile() -> Any:
  """``tensorflow.io.gfile`` (imported on first use), or None without TensorFlow."""
  if _State.gfile is None and _State.has_tf:
    from tensorflow.io import gfile  # optional and heavy: imported on first use

    _State.gfile = gfile
  return _State.gfile


def not_found_error() -> type[BaseException]:
  """The exception the current installation raises for a missing path."""
  if _State.has_tf:
    from tensorflow import errors as tf_errors

    return tf_errors.NotFoundError
  return FileNotFoundError


def get_mode() -> Any:
  """The current backend mode (what ``flaxen.io.io_mode`` reads)."""
  return _State.mode


@set_module(_PUBLIC)
def set_mode(override: BackendMode) -> None:
  """Sets the backend mode for the whole process.

  Args:
    override: ``BackendMode.DEFAULT`` or ``BackendMode.TF``.
  """
  _State.mode = override


@set_module(_PUBLIC)
@contextlib.contextmanager
def override_mode(override: BackendMode) -> Iterator[None]:
  """Uses another backend mode inside a ``with`` block, then restores the previous one.

  Args:
    override: the mode to use inside the block.

  Example:
    >>> from flaxen import io
    >>> with io.override_mode(io.BackendMode.DEFAULT):
    ...   io.io_mode
    <BackendMode.DEFAULT: 0>
  """
  previous = _State.mode
  _State.mode = override
  try:
    yield
  finally:
    _State.mode = previous


# --- the two backends ------------------------------------------------------------


def _refuse_existing(dst: Any, overwrite: bool) -> None:
  if not overwrite and os.path.exists(dst):
    raise errors.AlreadyExistsError(dst)


class _Local:
  """``DEFAULT``: the local file system through ``os``, ``shutil`` and ``glob``."""

  @staticmethod
  def GFile(name, mode):  # noqa: N802 (the reference's name)
    return open(name, mode) if 'b' in mode else open(name, mode, encoding='utf-8')

  listdir = staticmethod(lambda path: os.listdir(path=path))
  isdir = staticmethod(os.path.isdir)
  exists = staticmethod(os.path.exists)
  remove = staticmethod(os.remove)
  rmtree = staticmethod(shutil.rmtree)
  getsize = staticmethod(os.path.getsize)

  @staticmethod
  def makedirs(path):
    return os.makedirs(path, exist_ok=True)

  @staticmethod
  def glob(pattern):
    return [found.rstrip('/') for found in glob_module.glob(pattern, recursive=False)]

  @staticmethod
  def copy(src, dst, overwrite=False):
    _refuse_existing(dst, overwrite)
    shutil.copy(src, dst)

  @staticmethod
  def rename(src, dst, overwrite=False):
    _refuse_existing(dst, overwrite)
    return os.rename(src, dst)


class _GFile:
  """``TF``: ``tensorflow.io.gfile`` (remote file systems)."""

  def __getattr__(self, name: str) -> Any:
    gfile = tf_gfile()
    if gfile is None:
      raise AttributeError(
        f"'NoneType' object has no attribute '{name}' (flaxen.io is in BackendMode.TF but "
        'tensorflow is not installed; install it or call '
        'flaxen.io.set_mode(flaxen.io.BackendMode.DEFAULT))'
      )
    if name == 'getsize':
      return lambda path: gfile.stat(path).length
    if name == 'listdir':
      return lambda path: gfile.listdir(path=path)
    return getattr(gfile, name)


_BACKENDS = {BackendMode.DEFAULT: _Local(), BackendMode.TF: _GFile()}


def _backend(path: Any = None) -> Any:
  backend = _BACKENDS.get(_State.mode) if isinstance(_State.mode, BackendMode) else None
  if backend is None:
    raise ValueError('Unknown IO Backend Mode.')
  if (
    path is not None and _State.mode is BackendMode.DEFAULT and not _State.warned_remote
    and isinstance(path, str) and _SCHEME.match(path)
  ):
    _State.warned_remote = True
    _log.warning(_NO_TF_WARNING)
  return backend


def is_local() -> bool:
  """Whether the current mode is the local backend (the checkpoint code's fast path)."""
  return _State.mode is BackendMode.DEFAULT


# --- the public functions ----------------------------------------------------------


@set_module(_PUBLIC)
def GFile(name, mode):  # noqa: N802 (the reference's name)
  """Opens ``name`` like ``open`` (text modes use UTF-8), or as a ``gfile.GFile`` in ``TF`` mode.

  Example:
    >>> import os, tempfile
    >>> from flaxen import io
    >>> path = os.path.join(tempfile.mkdtemp(), 'note.txt')
    >>> with io.GFile(path, 'w') as f:
    ...   _ = f.write('hello')
    >>> io.getsize(path)
    5
  """
  return _backend(name).GFile(name, mode)


@set_module(_PUBLIC)
def listdir(path):
  """Names of the entries of directory ``path`` (``NotFoundError`` if it is missing)."""
  return _backend(path).listdir(path)


@set_module(_PUBLIC)
def isdir(path) -> bool:
  """Whether ``path`` is a directory."""
  return _backend(path).isdir(path)


@set_module(_PUBLIC)
def exists(path) -> bool:
  """Whether ``path`` exists."""
  return _backend(path).exists(path)


@set_module(_PUBLIC)
def copy(src, dst, overwrite: bool = False):
  """Copies file ``src`` to ``dst``.

  Raises:
    AlreadyExistsError: ``dst`` exists and ``overwrite`` is False.
  """
  return _backend(dst).copy(src, dst, overwrite=overwrite)


@set_module(_PUBLIC)
def rename(src, dst, overwrite: bool = False):
  """Renames ``src`` to ``dst``.

  Raises:
    AlreadyExistsError: ``dst`` exists and ``overwrite`` is False.
  """
  return _backend(dst).rename(src, dst, overwrite=overwrite)


@set_module(_PUBLIC)
def makedirs(path):
  """Creates directory ``path`` and its parents; an existing directory is fine."""
  return _backend(path).makedirs(path)


@set_module(_PUBLIC)
def glob(pattern) -> list:
  """Paths matching ``pattern`` (non-recursive; trailing ``/`` removed)."""
  return _backend(pattern).glob(pattern)


@set_module(_PUBLIC)
def remove(path):
  """Deletes the file ``path`` (a directory raises the backend's error)."""
  return _backend(path).remove(path)


@set_module(_PUBLIC)
def rmtree(path):
  """Deletes the directory ``path`` with everything in it (a file raises)."""
  return _backend(path).rmtree(path)


@set_module(_PUBLIC)
def getsize(path) -> int:
  """Size of the file ``path`` in bytes."""
  return _backend(path).getsize(path)
