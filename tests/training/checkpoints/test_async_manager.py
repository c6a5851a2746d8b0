"""AsyncManager: background commits, exact keep bookkeeping, errors never lost (also at exit)."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from flaxen import errors
from flaxen._src.training.checkpoints import atomic
from flaxen.training import checkpoints

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.usefixtures('msgpack')  # AsyncManager runs msgpack commits


def expected_after(saved_steps, keep, every_n=None):
  """What sequential saves of ``saved_steps`` (ascending) leave behind."""
  files = []
  for s in saved_steps:
    files.append(s)
    if len(files) > keep:
      last, kept = -float('inf'), []
      for old in files[:-keep]:
        if every_n and old and old - last >= every_n:  # the reference's rule
          last = old
          kept.append(old)
      files = kept + files[-keep:]
  return files


def test_many_rapid_async_saves_keep_exact_bookkeeping(tmp_path):
  m = checkpoints.AsyncManager()
  for step in range(40):
    checkpoints.save_checkpoint(tmp_path, {'w': np.full(1000, step)}, step, keep=3,
                                keep_every_n_steps=10, async_manager=m)
  m.wait_previous_save()
  assert checkpoints.available_steps(tmp_path) == [1, 11, 21, 31, 37, 38, 39]
  assert checkpoints.available_steps(tmp_path) == expected_after(range(40), 3, 10)
  assert (checkpoints.restore_checkpoint(tmp_path, None)['w'] == 39).all()


def test_async_save_snapshots_the_target(tmp_path):
  m = checkpoints.AsyncManager()
  target = {'w': np.zeros(3)}
  checkpoints.save_checkpoint(tmp_path, target, 1, async_manager=m)
  target['w'][:] = 7  # mutated after the call returned
  m.wait_previous_save()
  assert (checkpoints.restore_checkpoint(tmp_path, None)['w'] == 0).all()


def test_concurrent_threads_sharing_a_manager(tmp_path):
  m = checkpoints.AsyncManager()
  counter = iter(range(10**6))
  counter_lock = threading.Lock()
  accepted, rejected = [], []

  def worker():
    for _ in range(15):
      with counter_lock:
        step = next(counter)
      try:
        checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=4, keep_every_n_steps=20,
                                    async_manager=m)
        with counter_lock:
          accepted.append(step)
      except errors.InvalidCheckpointError:  # a newer step got in first: correctly refused
        with counter_lock:
          rejected.append(step)

  threads = [threading.Thread(target=worker) for _ in range(6)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  m.wait_previous_save()
  assert len(accepted) + len(rejected) == 90
  assert checkpoints.available_steps(tmp_path) == expected_after(sorted(accepted), 4, 20)
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'s': max(accepted)}


def test_concurrent_synchronous_saves_to_one_directory(tmp_path):
  # without a manager, commits to one directory are still serialized per process
  def worker(offset):
    for i in range(8):
      checkpoints.save_checkpoint(tmp_path, {'s': 1}, f'{offset}.{i:02d}', prefix='p_',
                                  keep=2, overwrite=True)

  threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  assert len(checkpoints.available_steps(tmp_path, 'p_', float)) <= 2


def test_failed_background_save_is_reported(tmp_path, monkeypatch):
  m = checkpoints.AsyncManager()

  def broken(*a, **k):
    raise OSError('disk on fire')

  monkeypatch.setattr(atomic, 'write_file', broken)
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1, async_manager=m)
  with pytest.raises(OSError, match='disk on fire'):
    m.wait_previous_save()
  m.wait_previous_save()  # reported once
  monkeypatch.undo()
  checkpoints.save_checkpoint(tmp_path, {'v': 2}, 2, async_manager=m)
  m.wait_previous_save()
  assert checkpoints.available_steps(tmp_path) == [2]


def test_next_save_surfaces_a_previous_failure(tmp_path, monkeypatch):
  m = checkpoints.AsyncManager()
  monkeypatch.setattr(atomic, 'write_file', lambda *a, **k: (_ for _ in ()).throw(OSError('x')))
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1, async_manager=m)
  m.save_future.exception(timeout=30)  # let the background commit fail first
  monkeypatch.undo()
  with pytest.raises(OSError):
    checkpoints.save_checkpoint(tmp_path, {'v': 2}, 2, async_manager=m)


EXIT_SCRIPT = r'''
import sys
import numpy as np
from flaxen import config
from flaxen._src.training.checkpoints import atomic
from flaxen.training import checkpoints

config.update('flax_use_orbax_checkpointing', False)
if sys.argv[2] == 'fail':
  def broken(*a, **k):
    raise OSError('disk on fire')
  atomic.write_file = broken
m = checkpoints.AsyncManager()
checkpoints.save_checkpoint(sys.argv[1], {'w': np.ones(3)}, 1, async_manager=m)
print('main done', flush=True)
'''


@pytest.mark.parametrize('mode', ['fail', 'ok'])
def test_a_failed_save_nobody_waited_for_is_reported_at_exit(tmp_path, mode):
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu', PYTHONWARNINGS='ignore')
  proc = subprocess.run([sys.executable, '-c', EXIT_SCRIPT, str(tmp_path), mode], env=env,
                        capture_output=True, text=True, timeout=120, cwd=str(ROOT))
  assert 'main done' in proc.stdout
  if mode == 'fail':
    assert proc.returncode == 1
    assert 'an asynchronous checkpoint save failed' in proc.stderr
    assert 'OSError: disk on fire' in proc.stderr
    assert checkpoints.available_steps(tmp_path) == []
  else:  # a pending save that succeeds is completed before the process ends
    assert proc.returncode == 0, proc.stderr
    assert checkpoints.available_steps(tmp_path) == [1]
