"""restore_checkpoint / latest_checkpoint: layouts, lookup rules, corrupted files."""

import os
import pathlib
import shutil

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import serialization
from flaxen._src.training.checkpoints import restore as restore_mod
from flaxen.core import FrozenDict
from flaxen.training import checkpoints

TREE = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
TARGET = [0, {'foo': '', 'bar': np.array(0)}, [0, 0, 0]]


def assert_tree_equal(a, b):
  assert type(a) is type(b)
  if isinstance(a, (dict, FrozenDict)):
    assert list(a) == list(b)
    for k in a:
      assert_tree_equal(a[k], b[k])
  elif isinstance(a, (list, tuple)):
    assert len(a) == len(b)
    for x, y in zip(a, b):
      assert_tree_equal(x, y)
  elif isinstance(a, np.ndarray):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
  else:
    assert a == b


def test_raw_state_dict_layout(tmp_path):
  # Orbax migration guide L31245-L31261
  checkpoints.save_checkpoint(tmp_path, TREE, step=0)
  raw = checkpoints.restore_checkpoint(tmp_path, target=None)
  assert_tree_equal(raw, {'0': 12, '1': {'foo': 'str', 'bar': np.array([2, 3])},
                          '2': {'0': 1, '1': 4, '2': 10}})


def test_restore_into_target_keeps_strings_and_ints(tmp_path):
  checkpoints.save_checkpoint(tmp_path, TREE, step=0, overwrite=True)
  assert_tree_equal(checkpoints.restore_checkpoint(tmp_path, target=TARGET),
                    [12, {'foo': 'str', 'bar': np.array([2, 3])}, [1, 4, 10]])


def test_single_array(tmp_path):
  checkpoints.save_checkpoint(tmp_path, jnp.arange(10), step=0)
  out = checkpoints.restore_checkpoint(tmp_path, target=None)
  assert isinstance(out, np.ndarray) and out.dtype == np.int32
  np.testing.assert_array_equal(out, np.arange(10))


def test_frozen_dict_target_gives_numpy_leaves(tmp_path):
  checkpoints.save_checkpoint(tmp_path, FrozenDict({'w': jnp.ones(3)}), 1)
  out = checkpoints.restore_checkpoint(tmp_path, FrozenDict({'w': jnp.zeros(3)}))
  assert isinstance(out, FrozenDict) and isinstance(out['w'], np.ndarray)


def test_nothing_to_restore_returns_target(tmp_path):
  sentinel = {'x': object()}
  assert checkpoints.restore_checkpoint(tmp_path / 'missing', sentinel) is sentinel
  assert checkpoints.restore_checkpoint(tmp_path, sentinel) is sentinel  # empty dir
  assert checkpoints.restore_checkpoint(tmp_path / 'checkpoint_3', sentinel) is sentinel
  (tmp_path / 'notes.txt').write_text('x')
  assert checkpoints.restore_checkpoint(tmp_path, sentinel) is sentinel
  assert checkpoints.latest_checkpoint(tmp_path) is None


def test_explicit_step_and_file_path(tmp_path):
  for step in (1, 2):
    checkpoints.save_checkpoint(tmp_path, {'v': step}, step, keep=2)
  assert checkpoints.restore_checkpoint(tmp_path, None, step=1) == {'v': 1}
  assert checkpoints.restore_checkpoint(tmp_path / 'checkpoint_1', None) == {'v': 1}
  assert checkpoints.restore_checkpoint(str(tmp_path / 'checkpoint_2'), None) == {'v': 2}
  with pytest.raises(ValueError, match='Matching checkpoint not found'):
    checkpoints.restore_checkpoint(tmp_path, None, step=7)


def test_reads_files_written_by_the_reference(golden_dir, tmp_path):
  for src in sorted((golden_dir / 'serialization').glob('*.msgpack')):
    shutil.copy(src, tmp_path / 'checkpoint_1')
    got = checkpoints.restore_checkpoint(tmp_path, None)
    assert_tree_equal(got, serialization.msgpack_restore(src.read_bytes()))


def test_parallel_read_matches_sequential(tmp_path, monkeypatch):
  monkeypatch.setattr(restore_mod, '_PARALLEL_CHUNK', 4096)
  tree = {'a': np.arange(50_000, dtype=np.float32), 'b': np.arange(7, dtype=np.int8)}
  path = checkpoints.save_checkpoint(tmp_path, tree, 1)
  assert os.path.getsize(path) > 10 * 4096
  par = checkpoints.restore_checkpoint(tmp_path, None, parallel=True)
  seq = checkpoints.restore_checkpoint(tmp_path, None, parallel=False)
  assert_tree_equal(par, seq)
  assert_tree_equal(par, tree)


# --- damaged files: the documented behaviour ------------------------------------

def make_two(tmp_path):
  checkpoints.save_checkpoint(tmp_path, {'w': np.arange(100.0), 'step': 1}, 1, keep=5)
  path = checkpoints.save_checkpoint(tmp_path, {'w': np.arange(100.0) * 2, 'step': 2}, 2, keep=5)
  return pathlib.Path(path)


def damage_truncate(p):
  p.write_bytes(p.read_bytes()[:-17])


def damage_empty(p):
  p.write_bytes(b'')


def damage_header(p):
  data = bytearray(p.read_bytes())
  data[0] = 0xC1  # never valid in msgpack
  p.write_bytes(bytes(data))


def damage_dtype_name(p):
  # framing stays intact, decoding must still refuse: 'float64' -> 'flxat64'
  p.write_bytes(p.read_bytes().replace(b'float64', b'flxat64'))


def damage_garbage(p):
  p.write_bytes(os.urandom(500))


def damage_trailing(p):
  p.write_bytes(p.read_bytes() + b'\x00\x01')


@pytest.mark.parametrize('damage', [damage_truncate, damage_empty, damage_header,
                                    damage_dtype_name, damage_garbage, damage_trailing])
def test_corrupted_latest_raises_and_previous_is_found(tmp_path, damage):
  latest = make_two(tmp_path)
  damage(latest)
  previous = str(tmp_path / 'checkpoint_1')
  with pytest.raises(checkpoints.CheckpointCorruptedError) as e:
    checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(100), 'step': 0})
  assert e.value.path == str(latest) and e.value.fallback == previous
  assert str(latest) in str(e.value) and previous in str(e.value)
  assert isinstance(e.value, ValueError) and isinstance(e.value, serialization.MsgpackDecodeError)
  with pytest.raises(checkpoints.CheckpointCorruptedError):
    checkpoints.restore_checkpoint(latest, None)  # as a file path, too
  with pytest.raises(checkpoints.CheckpointCorruptedError):
    checkpoints.restore_checkpoint(tmp_path, None, step=2)
  if damage is not damage_dtype_name:  # framing damage: latest_checkpoint skips the file
    assert checkpoints.latest_checkpoint(tmp_path) == previous
  out = checkpoints.restore_checkpoint(previous, None)
  assert out['step'] == 1 and (out['w'] == np.arange(100.0)).all()


def test_corrupted_only_checkpoint_has_no_fallback(tmp_path):
  path = pathlib.Path(checkpoints.save_checkpoint(tmp_path, {'w': np.ones(4)}, 1))
  damage_truncate(path)
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='No complete checkpoint') as e:
    checkpoints.restore_checkpoint(tmp_path, None)
  assert e.value.fallback is None
  assert checkpoints.latest_checkpoint(tmp_path) is None


def test_save_after_corruption_respects_existing_names(tmp_path):
  latest = make_two(tmp_path)
  damage_truncate(latest)
  # the damaged step still counts for bookkeeping: saving step 2 again needs overwrite
  from flaxen import errors
  with pytest.raises(errors.InvalidCheckpointError):
    checkpoints.save_checkpoint(tmp_path, {'w': np.zeros(1), 'step': 2}, 2)
  checkpoints.save_checkpoint(tmp_path, {'w': np.zeros(1), 'step': 2}, 2, overwrite=True, keep=5)
  assert checkpoints.restore_checkpoint(tmp_path, None)['step'] == 2


def test_relative_file_path_in_cwd(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  checkpoints.save_checkpoint('.', {'w': np.ones(3), 'step': 1}, 1, keep=3)
  checkpoints.save_checkpoint('.', {'w': np.ones(3), 'step': 2}, 2, keep=3)
  # decodable framing but broken content: the fallback must not be the file itself
  damage_dtype_name(pathlib.Path('checkpoint_2'))
  with pytest.raises(checkpoints.CheckpointCorruptedError) as e:
    checkpoints.restore_checkpoint('checkpoint_2', None)
  assert e.value.fallback is not None and e.value.fallback.endswith('checkpoint_1')
  assert checkpoints.restore_checkpoint('checkpoint_1', None)['step'] == 1
