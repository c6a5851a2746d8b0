"""Two processes saving into one directory at once, both believing they are pid 1.

Two containers sharing a volume both run their trainer as pid 1. Liveness of a
writer must therefore never be judged by process id: a save's clean-up may only
remove helper files whose writer is provably gone (its lock is free). Both
writers sweep with no grace period, so only the locks protect in-flight files.
A control run with the lock check disabled must lose saves, or the test would
prove nothing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from flaxen import config
from flaxen._src.training.checkpoints import records
from flaxen.training import checkpoints

ROOT = Path(__file__).resolve().parents[2]

WRITER = r'''
import json, os, sys, time
import numpy as np
os.getpid = lambda: 1  # two containers: both writers are pid 1
from flaxen import config
from flaxen._src.training.checkpoints import atomic
from flaxen.training import checkpoints

ckpt_dir, prefix, fmt, mode = sys.argv[1:5]
config.update('flax_use_orbax_checkpointing', fmt == 'orbax')
atomic.GRACE_S = 0.0  # sweep everything that is not provably alive
atomic.ORBAX_GRACE_S = 0.0
if mode == 'no-locks':  # control: every helper file looks abandoned
  atomic._lock_is_free = lambda path: True
# a slow disk: each fsync takes 5 ms, so a temporary file lives long enough for the other
# writer's sweep to meet it (in both modes; only the lock check tells them apart)
_fsync = os.fsync
def _slow_fsync(fd):
  time.sleep(0.005)
  _fsync(fd)
os.fsync = _slow_fsync
failed = 0
steps = int(sys.argv[5])
# start together: imports take a different time in each process
barrier = os.path.join(os.path.dirname(ckpt_dir.rstrip('/')), 'ready_')
open(barrier + prefix, 'w').close()
while not all(os.path.exists(barrier + p) for p in ('a_', 'b_')):
  time.sleep(0.01)
for step in range(steps):
  try:
    checkpoints.save_checkpoint(ckpt_dir, {'w': np.full(200_000, step, np.float32)}, step,
                                prefix=prefix, keep=2)
  except Exception as e:
    failed += 1
print('RESULT ' + json.dumps({'failed': failed, 'steps': steps}))
'''


def run_writers(ckpt_dir, fmt, mode, steps):
  ckpt_dir = Path(ckpt_dir) / 'ckpts'
  ckpt_dir.mkdir()
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu', PYTHONWARNINGS='ignore')
  procs = [subprocess.Popen([sys.executable, '-c', WRITER, str(ckpt_dir), prefix, fmt, mode,
                             str(steps)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
           for prefix in ('a_', 'b_')]
  results = []
  for p in procs:
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    results.append(json.loads(next(x for x in out.splitlines() if x.startswith('RESULT '))[7:]))
  return results, ckpt_dir


def check_intact(ckpt_dir, fmt, steps):
  with config.temp_flip_flag('use_orbax_checkpointing', fmt == 'orbax'):
    for prefix in ('a_', 'b_'):
      assert checkpoints.available_steps(ckpt_dir, prefix) == [steps - 2, steps - 1]
      for step in (steps - 2, steps - 1):
        path = Path(ckpt_dir) / f'{prefix}{step}'
        if path.is_file():
          assert records.verify(str(path), path.read_bytes())
        else:
          assert records.verify_tree(str(path))
        out = checkpoints.restore_checkpoint(ckpt_dir, {'w': np.zeros(200_000, np.float32)},
                                             step=step, prefix=prefix)
        assert (np.asarray(out['w']) == step).all()


@pytest.mark.slow
@pytest.mark.parametrize('fmt', ['msgpack', 'orbax'])
def test_two_writers_with_the_same_pid_never_break_each_other(tmp_path, fmt):
  steps = 40 if fmt == 'msgpack' else 15
  results, ckpt_dir = run_writers(tmp_path, fmt, 'locks', steps)
  assert [r['failed'] for r in results] == [0, 0], results
  check_intact(ckpt_dir, fmt, steps)


@pytest.mark.slow
def test_without_the_lock_check_the_same_scenario_loses_saves(tmp_path):
  results, _ = run_writers(tmp_path, 'msgpack', 'no-locks', 60)
  assert sum(r['failed'] for r in results) > 0, results
