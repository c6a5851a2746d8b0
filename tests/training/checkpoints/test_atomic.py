"""Atomic writes: temp name in the same directory, fsync file, rename, fsync directory."""

import errno
import os
import pathlib
import subprocess
import sys

import pytest

from flaxen import errors
from flaxen._src.training.checkpoints import atomic, naming


def test_write_sequence_is_tmp_fsync_rename_fsync_dir(tmp_path, monkeypatch):
  events = []
  real_open, real_fsync, real_replace = os.open, os.fsync, os.replace
  fds = {}

  def spy_open(path, flags, *a):
    fd = real_open(path, flags, *a)
    fds[fd] = str(path)
    events.append(('open', str(path)))
    return fd

  def spy_fsync(fd):
    events.append(('fsync', fds.get(fd)))
    return real_fsync(fd)

  def spy_replace(src, dst):
    events.append(('replace', str(src), str(dst)))
    return real_replace(src, dst)

  monkeypatch.setattr(os, 'open', spy_open)
  monkeypatch.setattr(os, 'fsync', spy_fsync)
  monkeypatch.setattr(os, 'replace', spy_replace)
  target = str(tmp_path / 'checkpoint_3')
  atomic.atomic_write(target, b'payload')
  tmp = events[0][1]
  assert os.path.dirname(tmp) == str(tmp_path)  # same directory (same file system)
  assert naming.step_suffix(os.path.basename(tmp), 'checkpoint_') is None
  assert events == [
    ('open', tmp), ('fsync', tmp), ('replace', tmp, target),
    ('open', str(tmp_path)), ('fsync', str(tmp_path)),
  ]
  assert pathlib.Path(target).read_bytes() == b'payload'
  assert os.listdir(tmp_path) == ['checkpoint_3']


def test_overwrite_false_never_replaces(tmp_path):
  p = str(tmp_path / 'c_1')
  atomic.atomic_write(p, b'old')
  with pytest.raises(errors.AlreadyExistsError) as e:
    atomic.atomic_write(p, b'new', overwrite=False)
  assert e.value.path == p
  assert pathlib.Path(p).read_bytes() == b'old'
  assert os.listdir(tmp_path) == ['c_1']
  atomic.atomic_write(str(tmp_path / 'c_2'), b'new', overwrite=False)
  assert pathlib.Path(tmp_path / 'c_2').read_bytes() == b'new'


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
  p = str(tmp_path / 'checkpoint_1')
  atomic.atomic_write(p, b'old contents')

  def disk_full(fd, data):
    raise OSError(errno.ENOSPC, 'No space left on device')

  monkeypatch.setattr(os, 'write', disk_full)
  with pytest.raises(OSError, match='No space'):
    atomic.atomic_write(p, b'new contents')
  assert pathlib.Path(p).read_bytes() == b'old contents'
  assert os.listdir(tmp_path) == ['checkpoint_1']


def test_large_write_is_complete(tmp_path):
  data = os.urandom(3 * 2**20 + 7)
  p = str(tmp_path / 'big')
  atomic.atomic_write(p, memoryview(data))
  assert pathlib.Path(p).read_bytes() == data


def _dead_pid() -> int:
  proc = subprocess.Popen([sys.executable, '-c', 'pass'])
  proc.wait()
  return proc.pid


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
  dead = tmp_path / f'.checkpoint_5{naming.TMP_MARK}{_dead_pid()}-aa'
  mine = tmp_path / f'.checkpoint_6{naming.TMP_MARK}{os.getpid()}-bb'
  with subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],
                        stdin=subprocess.PIPE) as alive_proc:
    alive = tmp_path / f'.checkpoint_7{naming.TMP_MARK}{alive_proc.pid}-cc'
    for p in (dead, mine, alive):
      p.write_bytes(b'partial')
    (tmp_path / 'checkpoint_4').write_bytes(b'real')
    (tmp_path / '.unrelated').write_bytes(b'x')
    removed = atomic.remove_stale_tmp_files(str(tmp_path))
    alive_proc.stdin.close()
  assert sorted(removed) == sorted([str(dead), str(mine)])
  assert sorted(os.listdir(tmp_path)) == sorted(['checkpoint_4', '.unrelated', alive.name])


def test_temporary_in_use_by_this_process_is_kept(tmp_path, monkeypatch):
  seen = []
  real_fsync = os.fsync

  def cleanup_during_write(fd):
    seen.append(atomic.remove_stale_tmp_files(str(tmp_path)))
    return real_fsync(fd)

  monkeypatch.setattr(os, 'fsync', cleanup_during_write)
  atomic.atomic_write(str(tmp_path / 'checkpoint_1'), b'data')
  assert seen and seen[0] == []
  assert os.listdir(tmp_path) == ['checkpoint_1']
