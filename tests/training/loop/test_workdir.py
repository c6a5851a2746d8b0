"""The run directory: start/resume rules, checkpoint format, unusable directories, history."""

import errno
import json
import os
import tempfile

import jax.numpy as jnp
import pytest

from flaxen import config
from flaxen._src.training.loop.workdir import Workdir, describe_os_error
from flaxen.training import checkpoints
from flaxen.training.loop import WorkdirError

STATE = {'w': jnp.arange(3.0), 'step': jnp.int32(0)}


def test_fresh_run_refuses_then_overwrites_owned_entries(tmp_path):
  run = Workdir(tmp_path)
  run.prepare(resume=False, overwrite=False)
  run.save(STATE, 4, keep=3)
  run.append_history({'epoch': 1, 'step': 4})
  for name in ('metrics.csv', 'loss.png', 'notes.txt'):
    (tmp_path / name).write_text('x')
  (tmp_path / 'tensorboard').mkdir()
  with pytest.raises(WorkdirError, match=r'already holds checkpoints \(newest: step 4\)'):
    run.prepare(resume=False, overwrite=False)
  run.prepare(resume=True, overwrite=False)  # resuming keeps everything
  assert run.steps() == [4]
  run.prepare(resume=False, overwrite=True)
  assert sorted(os.listdir(tmp_path)) == ['checkpoints', 'notes.txt']  # the user's file stays
  assert run.steps() == []


def test_workdir_that_is_a_file(tmp_path):
  path = tmp_path / 'file'
  path.write_text('x')
  with pytest.raises(WorkdirError, match=f'{path} is a file, not a directory'):
    Workdir(path).prepare(resume=False, overwrite=False)


@pytest.mark.parametrize('code,why', [
  (errno.EACCES, 'permission denied'), (errno.EROFS, 'read-only file system'),
  (errno.ENOSPC, 'no space left on the device'),
])
def test_unwritable_directory(tmp_path, monkeypatch, code, why):
  def refuse(*args, **kwargs):
    raise OSError(code, os.strerror(code))

  monkeypatch.setattr(tempfile, 'NamedTemporaryFile', refuse)
  with pytest.raises(WorkdirError, match=f'^cannot write to {tmp_path}: {why}$'):
    Workdir(tmp_path).prepare(resume=False, overwrite=False)


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only directories')
def test_read_only_directory_for_real(tmp_path):
  tmp_path.chmod(0o500)
  try:
    with pytest.raises(WorkdirError, match='permission denied'):
      Workdir(tmp_path / 'run').prepare(resume=False, overwrite=False)
  finally:
    tmp_path.chmod(0o700)


def test_describe_os_error_falls_back_to_strerror():
  assert describe_os_error(OSError(errno.EIO, 'I/O error'), '/x') == 'cannot write to /x: I/O error'


def test_msgpack_format_holds_whatever_the_global_flag_says(tmp_path):
  run = Workdir(tmp_path)
  run.prepare(resume=False, overwrite=False)
  before = bool(config.flax_use_orbax_checkpointing)
  with config.temp_flip_flag('use_orbax_checkpointing', True):
    path = run.save(STATE, 3, keep=3)
    restored = run.restore(STATE)
  assert os.path.isfile(path)  # one msgpack file, not an Orbax directory
  assert checkpoints.restore_checkpoint(path, None)['w'].tolist() == [0.0, 1.0, 2.0]
  assert restored['w'].tolist() == [0.0, 1.0, 2.0]
  assert bool(config.flax_use_orbax_checkpointing) is before  # restored afterwards
  with pytest.raises(ValueError, match='checkpoint_format must be one of'):
    Workdir(tmp_path, 'pickle')


def test_orbax_format_writes_a_directory(tmp_path):
  pytest.importorskip('orbax.checkpoint')
  run = Workdir(tmp_path, 'orbax')
  run.prepare(resume=False, overwrite=False)
  path = run.save(STATE, 3, keep=3)
  assert os.path.isdir(path)
  assert run.restore(STATE)['w'].tolist() == [0.0, 1.0, 2.0]


def test_restore_errors_say_what_to_do(tmp_path):
  run = Workdir(tmp_path)
  run.prepare(resume=False, overwrite=False)
  assert run.restore(STATE) is None
  run.save(STATE, 4, keep=3)
  run.save(STATE, 8, keep=3)
  latest = tmp_path / 'checkpoints' / 'checkpoint_8'
  latest.write_bytes(latest.read_bytes()[:10])
  # a damaged newest checkpoint is skipped: the newest intact one is restored
  assert run.restore({'w': jnp.zeros(3), 'step': jnp.int32(0)})['w'].tolist() == [0.0, 1.0, 2.0]
  latest.unlink()
  with pytest.raises(WorkdirError, match='does not fit this model and optimizer'):
    run.restore({'w': jnp.arange(4.0), 'step': jnp.int32(0)})
  (tmp_path / 'checkpoints' / 'checkpoint_4').write_bytes(b'\x00garbage')
  with pytest.raises(WorkdirError, match='No complete checkpoint is left'):
    run.restore(STATE)


def test_history_survives_a_cut_line_and_is_filtered(tmp_path):
  run = Workdir(tmp_path)
  run.prepare(resume=False, overwrite=False)
  for epoch in (1, 2, 3):
    run.append_history({'epoch': epoch, 'loss': 1.0 / epoch})
  with open(run.history_path, 'a') as f:
    f.write('{"epoch": 4, "lo')  # a crash mid-line
  assert [r['epoch'] for r in run.read_history(2)] == [1, 2]
  assert [r['epoch'] for r in run.read_history(9)] == [1, 2, 3]
  run.write_history(run.read_history(1))
  lines = (tmp_path / 'history.jsonl').read_text().splitlines()
  assert [json.loads(r)['epoch'] for r in lines] == [1]
