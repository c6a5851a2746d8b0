"""The Orbax path: commit rules, replacing a checkpoint without deleting it first."""

import json
import os
import pathlib

import numpy as np
import pytest

from flaxen._src.training.checkpoints import orbax_bridge
from flaxen.training import checkpoints


def test_orbax_directories_are_recognised(tmp_path):
  assert not orbax_bridge.looks_like_orbax(str(tmp_path))
  assert orbax_bridge.uncommitted_reason(str(tmp_path)).startswith('a directory that is not')
  (tmp_path / '_METADATA').write_text('{}')
  assert orbax_bridge.looks_like_orbax(str(tmp_path))
  assert orbax_bridge.uncommitted_reason(str(tmp_path)) is None  # Orbax without commit markers
  (tmp_path / '_CHECKPOINT_METADATA').write_text(json.dumps({'init_timestamp_nsecs': 1}))
  assert 'never committed' in orbax_bridge.uncommitted_reason(str(tmp_path))
  (tmp_path / '_CHECKPOINT_METADATA').write_text(json.dumps({'commit_timestamp_nsecs': 2}))
  assert orbax_bridge.uncommitted_reason(str(tmp_path)) is None
  (tmp_path / '_CHECKPOINT_METADATA').write_text('{broken')
  assert 'never committed' in orbax_bridge.uncommitted_reason(str(tmp_path))
  (tmp_path / 'commit_success.txt').write_text('ok')
  assert orbax_bridge.uncommitted_reason(str(tmp_path)) is None


def test_round_trip_through_orbax(tmp_path, orbax):
  tree = {'a': np.arange(4), 'b': {'c': np.ones(2, np.float32)}}
  for step in range(3):
    checkpoints.save_checkpoint(tmp_path, tree, step, keep=2)
  assert checkpoints.available_steps(tmp_path) == [1, 2]
  out = checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(4, int),
                                                  'b': {'c': np.zeros(2, np.float32)}})
  np.testing.assert_array_equal(out['a'], tree['a'])


def test_overwrite_writes_aside_and_swaps(tmp_path, orbax, monkeypatch):
  path = checkpoints.save_checkpoint(tmp_path, {'v': np.ones(2)}, 1)
  first_record = (tmp_path / '.checkpoint_1.flaxen-integrity').read_text()
  saved_to = []
  real_save = checkpoints.ocp.Checkpointer.save

  def spy(self, directory, *args, **kwargs):
    saved_to.append(os.path.basename(str(directory)))
    assert os.path.isdir(path)  # the old checkpoint stays in place while the new one is written
    assert not kwargs.get('force')  # never Orbax's delete-then-write
    return real_save(self, directory, *args, **kwargs)

  monkeypatch.setattr(checkpoints.ocp.Checkpointer, 'save', spy)
  checkpoints.save_checkpoint(tmp_path, {'v': np.full(2, 7.0)}, 1, overwrite=True)
  assert len(saved_to) == 1 and saved_to[0].startswith('.checkpoint_1.flaxen-staging-')
  assert sorted(os.listdir(tmp_path)) == ['.checkpoint_1.flaxen-integrity', 'checkpoint_1']
  out = checkpoints.restore_checkpoint(tmp_path, {'v': np.zeros(2)})
  np.testing.assert_array_equal(out['v'], np.full(2, 7.0))
  assert (tmp_path / '.checkpoint_1.flaxen-integrity').read_text() != first_record


def test_orbax_directories_carry_an_integrity_record(tmp_path, orbax):
  import glob

  path = checkpoints.save_checkpoint(tmp_path, {'w': np.arange(1000.0)}, 1, keep=3)
  checkpoints.save_checkpoint(tmp_path, {'w': np.arange(1000.0) * 2}, 2, keep=3)
  record = json.loads((tmp_path / '.checkpoint_2.flaxen-integrity').read_text())
  assert record['file'] == 'checkpoint_2' and record['accept'][0]['files'] > 3
  # flip one byte of the newest checkpoint's array data (Orbax's ocdbt data files)
  data_files = sorted(glob.glob(str(tmp_path / 'checkpoint_2' / '**' / 'd' / '*'), recursive=True))
  victim = max(data_files, key=os.path.getsize)
  raw = bytearray(pathlib.Path(victim).read_bytes())
  raw[len(raw) // 2] ^= 0x10
  pathlib.Path(victim).write_bytes(bytes(raw))
  assert checkpoints.latest_checkpoint(tmp_path) == path  # skipped, as a damaged one
  out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(1000)})
  np.testing.assert_array_equal(out['w'], np.arange(1000.0))
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='differ from its integrity'):
    checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(1000)}, step=2)


def test_a_crash_while_replacing_keeps_the_old_checkpoint(tmp_path, orbax, monkeypatch):
  checkpoints.save_checkpoint(tmp_path, {'v': np.ones(2)}, 1)

  def crash(self, directory, *args, **kwargs):
    os.makedirs(str(directory) + '.orbax-checkpoint-tmp')
    raise KeyboardInterrupt  # stands for a kill in the middle of the write

  monkeypatch.setattr(checkpoints.ocp.Checkpointer, 'save', crash)
  with pytest.raises(KeyboardInterrupt):
    checkpoints.save_checkpoint(tmp_path, {'v': np.zeros(2)}, 1, overwrite=True)
  monkeypatch.undo()
  assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_1')
  out = checkpoints.restore_checkpoint(tmp_path, {'v': np.zeros(2)})
  np.testing.assert_array_equal(out['v'], np.ones(2))
