"""SIGKILL a saving process at random moments; no checkpoint may ever be lost or partial.

A long-lived helper process imports flaxen (and Orbax) once and then forks
*savers* on demand. A saver behaves like a resumed training job: it restores the
latest checkpoint, continues from the next step and saves in a loop (``keep=3``,
``keep_every_n_steps=25``) payloads of step-dependent size (up to 8 MiB) until
the test kills it with SIGKILL after a random delay. After every kill the test
checks, from the outside, that:

  * every checkpoint name holds exactly the payload of its step (a half-written
    file or an uncommitted Orbax directory is never visible under a checkpoint
    name), and every msgpack file verifies against its integrity record;
  * ``latest_checkpoint`` / ``restore_checkpoint`` return the newest step and the
    newest step never decreases (a killed save never destroys saved progress);
  * the ``keep`` bookkeeping holds up to the one save whose pruning was cut off;
  * helper files never match the checkpoint pattern, and the next save removes
    those left by dead writers.

Both formats run: the legacy msgpack files (60 kills) and Orbax directories
(60 kills; the reference's Orbax default once left a final checkpoint that did
not restore in 15).
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from flaxen import config
from flaxen._src.training.checkpoints import atomic as atomic_mod
from flaxen._src.training.checkpoints import records as record_mod
from flaxen.training import checkpoints

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork (POSIX)')
KEEP, EVERY_N = 3, 25

WORKER = r'''
import os, sys
import numpy as np
from flaxen import config
from flaxen.training import checkpoints

ckpt_dir = sys.argv[1]
KEEP, EVERY_N = int(sys.argv[2]), int(sys.argv[3])
config.update('flax_use_orbax_checkpointing', sys.argv[5] == 'orbax')
if sys.argv[4] == 'naive':  # control experiment: write in place, no temp file, no rename
  from flaxen._src.training.checkpoints import atomic

  def naive_write(path, data, overwrite, token):
    with open(path, 'wb') as f:
      f.write(data)

  atomic.write_file = naive_write

def payload(step):
  n = int(np.random.default_rng(step).integers(1_000, 2_000_000))
  return {'step': step, 'name': f'step-{step}', 'data': np.full(n, step, np.int32)}

def saver():
  state = checkpoints.restore_checkpoint(ckpt_dir, None)
  step = 0 if state is None else int(state['step']) + 1
  while True:
    checkpoints.save_checkpoint(ckpt_dir, payload(step), step, keep=KEEP,
                                keep_every_n_steps=EVERY_N)
    step += 1

for line in sys.stdin:
  cmd = line.split()
  if cmd[0] == 'fork':
    pid = os.fork()
    if pid == 0:
      try:
        saver()
      finally:
        os._exit(1)
    print(pid, flush=True)
  elif cmd[0] == 'reap':
    _, status = os.waitpid(int(cmd[1]), 0)
    print(status, flush=True)
  elif cmd[0] == 'quit':
    break
'''


def expected_payload(step):
  n = int(np.random.default_rng(step).integers(1_000, 2_000_000))
  return n


def helpers_of(names):
  """Helper files and directories (hidden, or Orbax's temporaries), never checkpoints."""
  return [n for n in names if n.startswith('.') or n.endswith('.orbax-checkpoint-tmp')]


def check_directory(ckpt_dir: Path, last_max: int, exact_keep: bool = False) -> tuple[int, int, int]:
  """Verifies the directory after a kill.

  Returns:
    (newest step, number of stray helper files, checkpoints beyond ``keep`` left by
    saves killed between their commit and their pruning).
  """
  names = os.listdir(ckpt_dir)
  helpers = helpers_of(names)
  records = [n for n in helpers if n.endswith('.flaxen-integrity')]
  strays = [n for n in helpers if n not in records]
  steps = checkpoints.available_steps(ckpt_dir)
  assert sorted(steps) == steps
  assert {n for n in names if n not in helpers} == {f'checkpoint_{s}' for s in steps}
  for step in steps:  # every visible checkpoint is complete, committed and exact
    path = ckpt_dir / f'checkpoint_{step}'
    if path.is_file():  # msgpack: it also verifies against its integrity record
      assert record_mod.verify(str(path), path.read_bytes()) is True
    else:
      assert (path / 'commit_success.txt').exists()
    raw = checkpoints.restore_checkpoint(ckpt_dir, None, step=step)
    assert int(raw['step']) == step and str(raw['name']) == f'step-{step}'
    data = np.asarray(raw['data'])
    assert data.shape == (expected_payload(step),)
    assert data.dtype == np.int32 and (data == step).all()
  if not steps:
    assert last_max < 0, 'all checkpoints vanished'
    assert checkpoints.latest_checkpoint(ckpt_dir) is None
    return last_max, len(strays), 0
  newest = steps[-1]
  assert newest >= last_max, f'progress went back from {last_max} to {newest}'
  assert checkpoints.latest_checkpoint(ckpt_dir) == str(ckpt_dir / f'checkpoint_{newest}')
  assert int(checkpoints.restore_checkpoint(ckpt_dir, None)['step']) == newest
  # checkpoints kept by keep_every_n_steps (the reference's rule): 1, 26, 51, ...
  spared = [s for s in steps if (s - 1) % EVERY_N == 0 and s < steps[-KEEP]] if len(steps) > KEEP else []
  if spared:
    assert spared == list(range(1, spared[-1] + 1, EVERY_N)), steps
  extra = len(steps) - len(spared) - KEEP
  if exact_keep:  # after a save that ran to completion, bookkeeping is exact
    assert extra == 0 and steps[-KEEP:] == list(range(newest - KEEP + 1, newest + 1)), steps
  return newest, len(strays), max(extra, 0)


def start_zygote(ckpt_dir: Path, mode: str, fmt: str = 'msgpack') -> subprocess.Popen:
  env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS='ignore', JAX_PLATFORMS='cpu')
  return subprocess.Popen(
    [sys.executable, '-c', WORKER, str(ckpt_dir), str(KEEP), str(EVERY_N), mode, fmt],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT),
  )


def stop_zygote(zygote: subprocess.Popen) -> None:
  if zygote.poll() is None:
    zygote.stdin.write('quit\n')
  zygote.stdin.close()
  zygote.wait(timeout=30)
  zygote.stdout.close()


def kill_loop(zygote, ckpt_dir, iterations, rng, stats, max_delay=0.12):
  """Forks savers, kills each after a random delay and checks the directory."""

  def ask(line: str) -> str:
    zygote.stdin.write(line + '\n')
    zygote.stdin.flush()
    answer = zygote.stdout.readline().strip()
    if not answer:
      raise RuntimeError(f'the helper process died (exit code {zygote.poll()}); see stderr')
    return answer

  for _ in range(iterations):
    pid = int(ask('fork'))
    time.sleep(rng.uniform(0.0, max_delay))
    os.kill(pid, signal.SIGKILL)
    status = int(ask(f'reap {pid}'))
    stats['killed'] += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    stats['newest'], n_tmp, extra = check_directory(ckpt_dir, stats['newest'])
    stats['with_tmp'] += n_tmp > 0
    stats['unpruned'] += extra > 0


@pytest.mark.slow
@pytest.mark.parametrize('fmt, max_delay', [('msgpack', 0.12), ('orbax', 0.6)])
def test_sigkill_during_saves_never_loses_or_exposes_a_partial_checkpoint(tmp_path, monkeypatch,
                                                                          fmt, max_delay):
  iterations = 60
  rng = random.Random(1234)
  zygote = start_zygote(tmp_path, 'atomic', fmt)

  start = time.monotonic()
  stats = {'newest': -1, 'killed': 0, 'with_tmp': 0, 'unpruned': 0}
  try:
    kill_loop(zygote, tmp_path, iterations, rng, stats, max_delay)
  finally:
    stop_zygote(zygote)
  elapsed = time.monotonic() - start

  newest = stats['newest']
  assert stats['killed'] == iterations  # every saver was still saving when killed
  assert newest > 0
  # the next save removes the helper files of the dead savers (the grace periods cover
  # live writers only; every writer here is dead)
  monkeypatch.setattr(atomic_mod, 'GRACE_S', 0.0)
  monkeypatch.setattr(atomic_mod, 'ORBAX_GRACE_S', 0.0)
  n = expected_payload(newest + 1)
  final = {'step': newest + 1, 'name': f'step-{newest + 1}', 'data': np.full(n, newest + 1, np.int32)}
  with config.temp_flip_flag('use_orbax_checkpointing', fmt == 'orbax'):
    checkpoints.save_checkpoint(tmp_path, final, newest + 1, keep=KEEP, keep_every_n_steps=EVERY_N)
  names = os.listdir(tmp_path)
  assert not [n for n in helpers_of(names) if not n.endswith('.flaxen-integrity')], names
  check_directory(tmp_path, newest + 1, exact_keep=True)
  print(f'\nkill test ({fmt}): {iterations} SIGKILLs in {elapsed:.1f}s, newest step {newest}; '
        f"{stats['with_tmp']} left a helper file, {stats['unpruned']} found unpruned checkpoints")


@pytest.mark.slow
def test_the_kill_check_catches_in_place_writes(tmp_path):
  # Control: the same loop with a saver that writes checkpoints in place must be
  # caught exposing a partial file, or the test above would prove nothing.
  zygote = start_zygote(tmp_path, 'naive')
  stats = {'newest': -1, 'killed': 0, 'with_tmp': 0, 'unpruned': 0}
  try:
    with pytest.raises((checkpoints.CheckpointCorruptedError, AssertionError, record_mod.Damaged)):
      kill_loop(zygote, tmp_path, 40, random.Random(99), stats)
  finally:
    stop_zygote(zygote)
