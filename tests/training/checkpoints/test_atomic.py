"""Atomic writes, writer locks, atomic removal, and the sweep of dead writers' helper files."""

import errno
import os
import pathlib
import subprocess
import sys
import time

import pytest

from flaxen import errors
from flaxen._src.training.checkpoints import atomic, naming

fcntl = pytest.importorskip('fcntl')


def write(path, data, overwrite=True):
  with atomic.WriterLock(str(path)) as lock:
    atomic.write_file(str(path), data, overwrite, lock.token)


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

  target = str(tmp_path / 'checkpoint_3')
  with atomic.WriterLock(target) as lock:
    monkeypatch.setattr(os, 'open', spy_open)
    monkeypatch.setattr(os, 'fsync', spy_fsync)
    monkeypatch.setattr(os, 'replace', spy_replace)
    atomic.write_file(target, b'payload', True, lock.token)
    monkeypatch.undo()
  tmp = events[0][1]
  assert os.path.dirname(tmp) == str(tmp_path)  # same directory (same file system)
  assert naming.step_suffix(os.path.basename(tmp), 'checkpoint_') is None
  assert lock.token in tmp and naming.parse_helper(os.path.basename(tmp))[1:] == ('tmp', lock.token)
  assert events == [
    ('open', tmp), ('fsync', tmp), ('replace', tmp, target),
    ('open', str(tmp_path)), ('fsync', str(tmp_path)),
  ]
  assert pathlib.Path(target).read_bytes() == b'payload'
  assert os.listdir(tmp_path) == ['checkpoint_3']  # lock file and temporary are gone


def test_overwrite_false_never_replaces(tmp_path):
  p = tmp_path / 'c_1'
  write(p, b'old')
  with pytest.raises(errors.AlreadyExistsError) as e:
    write(p, b'new', overwrite=False)
  assert e.value.path == str(p)
  assert p.read_bytes() == b'old'
  assert os.listdir(tmp_path) == ['c_1']
  write(tmp_path / 'c_2', b'new', overwrite=False)
  assert (tmp_path / 'c_2').read_bytes() == b'new'


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
  p = tmp_path / 'checkpoint_1'
  write(p, b'old contents')

  def disk_full(fd, data):
    raise OSError(errno.ENOSPC, 'No space left on device')

  monkeypatch.setattr(os, 'write', disk_full)
  with pytest.raises(OSError, match='No space'):
    write(p, b'new contents')
  assert p.read_bytes() == b'old contents'
  assert os.listdir(tmp_path) == ['checkpoint_1']


def test_large_and_multibyte_writes_are_complete(tmp_path):
  import numpy as np

  data = os.urandom(3 * 2**20 + 7)
  write(tmp_path / 'big', memoryview(data))
  assert (tmp_path / 'big').read_bytes() == data
  arr = np.arange(1000, dtype=np.float64)
  write(tmp_path / 'arr', memoryview(arr))
  assert (tmp_path / 'arr').read_bytes() == arr.tobytes()


def test_remove_entry_takes_the_name_away_first(tmp_path, monkeypatch):
  d = tmp_path / 'checkpoint_4'
  d.mkdir()
  for i in range(5):
    (d / f'f{i}').write_bytes(b'x')
  seen = []
  real_rmtree = atomic.shutil.rmtree

  def spy(path, *a, **k):
    seen.append((os.path.basename(path), sorted(os.listdir(tmp_path))))
    return real_rmtree(path, *a, **k)

  monkeypatch.setattr(atomic.shutil, 'rmtree', spy)
  atomic.remove_entry(str(d))
  assert len(seen) == 1
  name, listing = seen[0]
  assert naming.parse_helper(name)[:2] == ('checkpoint_4', 'trash')
  assert 'checkpoint_4' not in listing  # never half-deleted under its name
  assert os.listdir(tmp_path) == []
  atomic.remove_entry(str(d))  # gone already: fine
  (tmp_path / 'checkpoint_5').write_bytes(b'x')
  atomic.remove_entry(str(tmp_path / 'checkpoint_5'))
  assert os.listdir(tmp_path) == []


LOCK_HOLDER = r'''
import fcntl, os, sys
lock = sys.argv[1]
fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print('locked', flush=True)
sys.stdin.read()
'''


def _age(path, seconds):
  t = time.time() - seconds
  os.utime(path, (t, t), follow_symlinks=False)


def test_sweep_removes_only_helpers_of_dead_writers(tmp_path):
  live_token, dead_token = 'a1' * 8, 'b2' * 8
  live_lock = tmp_path / f'.checkpoint_7.flaxen-lock-1-{live_token}'
  dead_lock = tmp_path / f'.checkpoint_5.flaxen-lock-1-{dead_token}'
  holder = subprocess.Popen([sys.executable, '-c', LOCK_HOLDER, str(live_lock)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'locked'
    dead_lock.write_bytes(b'')  # its writer is gone: nobody holds the lock
    # both writers are "pid 1" (two containers): only the lock decides
    live_tmp = tmp_path / f'.checkpoint_7.flaxen-tmp-1-{live_token}'
    dead_tmp = tmp_path / f'.checkpoint_5.flaxen-tmp-1-{dead_token}'
    orphan_tmp = tmp_path / '.checkpoint_6.flaxen-tmp-1-cccccccc'  # no lock file at all
    staging = tmp_path / f'.checkpoint_5.flaxen-staging-{dead_token}'
    orbax_in_staging = tmp_path / f'.checkpoint_5.flaxen-staging-{dead_token}.orbax-checkpoint-tmp'
    orbax_tmp_dead = tmp_path / 'checkpoint_8.orbax-checkpoint-tmp'
    orbax_tmp_live = tmp_path / 'checkpoint_7.orbax-checkpoint-tmp'
    orphan_record = tmp_path / '.checkpoint_9.flaxen-integrity'
    kept_record = tmp_path / '.checkpoint_4.flaxen-integrity'
    for p in (live_tmp, dead_tmp, orphan_tmp, orphan_record, kept_record):
      p.write_bytes(b'partial')
    for p in (staging, orbax_in_staging, orbax_tmp_dead, orbax_tmp_live):
      p.mkdir()
      (p / 'data').write_bytes(b'x')
    (tmp_path / 'checkpoint_4').write_bytes(b'real')
    (tmp_path / '.unrelated').write_bytes(b'x')
    everything = set(os.listdir(tmp_path))
    assert atomic.sweep(str(tmp_path)) == []  # everything is too young (GRACE_S)
    for name in everything:
      _age(tmp_path / name, 3600)
    removed = {os.path.basename(p) for p in atomic.sweep(str(tmp_path))}
  finally:
    holder.stdin.close()
    holder.wait(timeout=30)
    holder.stdout.close()
  assert removed == {p.name for p in (dead_lock, dead_tmp, orphan_tmp, staging, orbax_in_staging,
                                      orbax_tmp_dead, orphan_record)}
  assert set(os.listdir(tmp_path)) == everything - removed
  assert live_tmp.exists() and orbax_tmp_live.exists() and kept_record.exists()


def test_helpers_of_a_write_in_progress_survive_a_sweep(tmp_path, monkeypatch):
  monkeypatch.setattr(atomic, 'GRACE_S', 0.0)
  seen = []
  real_fsync = os.fsync

  def sweep_during_write(fd):
    seen.append(atomic.sweep(str(tmp_path)))
    return real_fsync(fd)

  with atomic.WriterLock(str(tmp_path / 'checkpoint_1')) as lock:
    monkeypatch.setattr(os, 'fsync', sweep_during_write)
    atomic.write_file(str(tmp_path / 'checkpoint_1'), b'data', True, lock.token)
    monkeypatch.undo()
  assert seen and all(s == [] for s in seen)
  assert os.listdir(tmp_path) == ['checkpoint_1']
