"""restore_checkpoint / latest_checkpoint: layouts, lookup rules, damaged checkpoints.

Orbax results (leaf types, key order, raw layout, smaller targets) are the ones
flax 0.12.8 returns for the same calls.
"""

import json
import logging
import os
import pathlib
import shutil
import stat

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import serialization
from flaxen._src.training.checkpoints import intact, records
from flaxen.core import FrozenDict
from flaxen.training import checkpoints, train_state

TREE = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
TARGET = [0, {'foo': '', 'bar': np.array(0)}, [0, 0, 0]]


def assert_tree_equal(a, b):
  assert type(a) is type(b), (type(a), type(b))
  if isinstance(a, (dict, FrozenDict)):
    assert list(a) == list(b)
    for k in a:
      assert_tree_equal(a[k], b[k])
  elif isinstance(a, (list, tuple)):
    assert len(a) == len(b)
    for x, y in zip(a, b):
      assert_tree_equal(x, y)
  elif isinstance(a, (np.ndarray, jax.Array)):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
  else:
    assert a == b


def test_raw_state_dict_layout(tmp_path, fmt):
  # Orbax migration guide: lists come back as {'0': ..} dicts in both formats
  checkpoints.save_checkpoint(tmp_path, TREE, step=0)
  raw = checkpoints.restore_checkpoint(tmp_path, target=None)
  assert_tree_equal(raw, {'0': 12, '1': {'bar': np.array([2, 3]), 'foo': 'str'}
                          if fmt == 'orbax' else {'foo': 'str', 'bar': np.array([2, 3])},
                          '2': {'0': 1, '1': 4, '2': 10}})


def test_restore_into_target_keeps_strings_and_ints(tmp_path, msgpack):
  # (with Orbax the reference itself cannot restore a str leaf into this target)
  checkpoints.save_checkpoint(tmp_path, TREE, step=0, overwrite=True)
  assert_tree_equal(checkpoints.restore_checkpoint(tmp_path, target=TARGET),
                    [12, {'foo': 'str', 'bar': np.array([2, 3])}, [1, 4, 10]])


def test_orbax_leaf_types_and_order_follow_the_reference(tmp_path, orbax):
  tree = {'z': np.arange(3), 'a': {'y': jnp.ones(2), 'b': 3, 'c': 2.5, 'n': None, 's': 'str'},
          'l': [1, 2.0]}
  checkpoints.save_checkpoint(tmp_path, tree, 1)
  raw = checkpoints.restore_checkpoint(tmp_path, None)
  assert list(raw) == ['a', 'l', 'z'] and raw['l'] == {'0': 1, '1': 2.0}
  assert isinstance(raw['a']['y'], jax.Array) and type(raw['z']) is np.ndarray
  out = checkpoints.restore_checkpoint(tmp_path, tree)
  assert list(out) == ['z', 'a', 'l'] and list(out['a']) == ['y', 'b', 'c', 'n', 's']
  assert type(out['a']['b']) is int and type(out['a']['c']) is float and out['a']['n'] is None
  assert isinstance(out['a']['y'], jax.Array) and out['l'] == [1, 2.0]
  smaller = checkpoints.restore_checkpoint(tmp_path, {'z': np.zeros(3, int)})
  assert list(smaller) == ['z'] and (smaller['z'] == np.arange(3)).all()


def test_orbax_train_state_step_stays_a_python_int(tmp_path, orbax):
  state = train_state.TrainState.create(apply_fn=lambda x: x, params={'w': jnp.ones((2, 2))},
                                        tx=optax.sgd(0.1))
  checkpoints.save_checkpoint(tmp_path, state.replace(step=7), 7)
  assert checkpoints.restore_checkpoint(tmp_path, None)['opt_state'] == {'0': None, '1': None}
  restored = checkpoints.restore_checkpoint(tmp_path, state)
  assert type(restored.step) is int and restored.step == 7
  assert isinstance(restored.params['w'], jax.Array)


def test_msgpack_single_array(tmp_path, msgpack):
  checkpoints.save_checkpoint(tmp_path, jnp.arange(10), step=0)
  out = checkpoints.restore_checkpoint(tmp_path, target=None)
  assert isinstance(out, np.ndarray) and out.dtype == np.int32
  np.testing.assert_array_equal(out, np.arange(10))


def test_frozen_dict_target(tmp_path, fmt):
  checkpoints.save_checkpoint(tmp_path, FrozenDict({'w': jnp.ones(3)}), 1)
  out = checkpoints.restore_checkpoint(tmp_path, FrozenDict({'w': jnp.zeros(3)}))
  assert isinstance(out, FrozenDict)
  leaf = np.ndarray if fmt == 'msgpack' else jax.Array
  assert isinstance(out['w'], leaf) and (np.asarray(out['w']) == 1).all()


def test_nothing_to_restore_returns_target(tmp_path):
  sentinel = {'x': object()}
  assert checkpoints.restore_checkpoint(tmp_path / 'missing', sentinel) is sentinel
  assert checkpoints.restore_checkpoint(tmp_path, sentinel) is sentinel  # empty dir
  assert checkpoints.restore_checkpoint(tmp_path / 'checkpoint_3', sentinel) is sentinel
  (tmp_path / 'notes.txt').write_text('x')
  assert checkpoints.restore_checkpoint(tmp_path, sentinel) is sentinel
  assert checkpoints.latest_checkpoint(tmp_path) is None


def test_explicit_step_and_path(tmp_path, fmt):
  for step in (1, 2):
    checkpoints.save_checkpoint(tmp_path, {'v': step}, step, keep=2)
  assert checkpoints.restore_checkpoint(tmp_path, None, step=1) == {'v': 1}
  assert checkpoints.restore_checkpoint(tmp_path / 'checkpoint_1', None) == {'v': 1}
  assert checkpoints.restore_checkpoint(str(tmp_path / 'checkpoint_2'), None) == {'v': 2}
  with pytest.raises(ValueError, match='Matching checkpoint not found'):
    checkpoints.restore_checkpoint(tmp_path, None, step=7)


def test_reads_files_written_by_the_reference(golden_dir, tmp_path, caplog):
  for src in sorted((golden_dir / 'serialization').glob('*.msgpack')):
    shutil.copy(src, tmp_path / 'checkpoint_1')
    got = checkpoints.restore_checkpoint(tmp_path, None)
    assert_tree_equal(got, serialization.msgpack_restore(src.read_bytes()))


def test_unverified_checkpoints_get_a_one_time_notice(tmp_path, caplog, monkeypatch):
  monkeypatch.setattr(records, '_notice', type(records._notice)())
  data = serialization.to_bytes({'w': np.arange(3)})
  for step in (1, 2):
    (tmp_path / f'checkpoint_{step}').write_bytes(data)  # as the reference writes them
  with caplog.at_level(logging.WARNING, logger='flaxen.training.checkpoints'):
    checkpoints.restore_checkpoint(tmp_path, None, step=1)
    checkpoints.restore_checkpoint(tmp_path, None, step=2)
    assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_2')
  notices = [r for r in caplog.records if 'has no integrity record' in r.getMessage()]
  assert len(notices) == 1 and 'cannot be detected' in notices[0].getMessage()


def test_parallel_read_matches_sequential(tmp_path, monkeypatch, msgpack):
  monkeypatch.setattr(intact, '_PARALLEL_CHUNK', 4096)
  tree = {'a': np.arange(50_000, dtype=np.float32), 'b': np.arange(7, dtype=np.int8)}
  path = checkpoints.save_checkpoint(tmp_path, tree, 1)
  assert os.path.getsize(path) > 10 * 4096
  par = checkpoints.restore_checkpoint(tmp_path, None, parallel=True)
  seq = checkpoints.restore_checkpoint(tmp_path, None, parallel=False)
  assert_tree_equal(par, seq)
  assert_tree_equal(par, tree)


def test_restore_waits_for_a_pending_async_save(tmp_path, msgpack):
  m = checkpoints.AsyncManager()
  for step in range(3):
    checkpoints.save_checkpoint(tmp_path, {'w': np.full(200_000, step)}, step, async_manager=m)
  # no explicit wait: the restore waits for the background commit of step 2
  assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_2')
  assert (checkpoints.restore_checkpoint(tmp_path, None)['w'] == 2).all()
  m.wait_previous_save()


# --- damaged checkpoints: skipped by latest / restore(dir), named when explicit --------


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
  p.write_bytes(p.read_bytes().replace(b'float64', b'flxat64'))


def damage_array_data(p):
  data = bytearray(p.read_bytes())
  data[-9] ^= 0x40  # inside the array bytes: decodes fine, only the record notices
  p.write_bytes(bytes(data))


def damage_garbage(p):
  p.write_bytes(os.urandom(500))


def damage_trailing(p):
  p.write_bytes(p.read_bytes() + b'\x00\x01')


def damage_replace_by_plain_dir(p):
  p.unlink()
  p.mkdir()
  (p / 'notes.txt').write_text('not a checkpoint')


def damage_dangling_symlink(p):
  p.unlink()
  p.symlink_to(p.parent / 'gone')


def damage_symlink_loop(p):
  p.unlink()
  p.symlink_to(p)


def damage_fifo(p):
  p.unlink()
  os.mkfifo(p)


DAMAGES = [damage_truncate, damage_empty, damage_header, damage_dtype_name, damage_array_data,
           damage_garbage, damage_trailing, damage_replace_by_plain_dir, damage_dangling_symlink,
           damage_symlink_loop, damage_fifo]


@pytest.mark.parametrize('damage', DAMAGES, ids=lambda f: f.__name__[7:])
def test_damaged_newest_is_skipped_and_named_when_explicit(tmp_path, damage, msgpack, caplog):
  latest = make_two(tmp_path)
  damage(latest)
  previous = str(tmp_path / 'checkpoint_1')
  # the directory form and latest_checkpoint agree: the newest intact checkpoint
  assert checkpoints.latest_checkpoint(tmp_path) == previous
  with caplog.at_level(logging.WARNING, logger='flaxen.training.checkpoints'):
    out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(100), 'step': 0})
  assert out['step'] == 1 and (out['w'] == np.arange(100.0)).all()
  assert any(f'Skipping damaged checkpoint {latest}' in r.getMessage() for r in caplog.records)
  # naming the damaged one (by path or by step) raises, naming the intact one; a directory
  # given as a path is a directory of checkpoints, as in the reference
  calls = [lambda: checkpoints.restore_checkpoint(tmp_path, None, step=2)]
  if damage is not damage_replace_by_plain_dir:
    calls.append(lambda: checkpoints.restore_checkpoint(latest, None))
  for call in calls:
    with pytest.raises(checkpoints.CheckpointCorruptedError) as e:
      call()
    assert e.value.path == str(latest) and e.value.fallback == previous
    assert str(latest) in str(e.value) and previous in str(e.value)
    assert isinstance(e.value, ValueError)
    assert isinstance(e.value, serialization.MsgpackDecodeError)


def test_unreadable_newest_is_skipped(tmp_path, msgpack, monkeypatch):
  latest = make_two(tmp_path)
  latest.chmod(0)
  if os.geteuid() == 0:  # root reads every file: make the read fail as it would for a user
    real = intact.read_bytes

    def refuse(path, parallel=True):
      if path == str(latest):
        raise PermissionError(13, 'Permission denied', path)
      return real(path, parallel)

    monkeypatch.setattr(intact, 'read_bytes', refuse)
  try:
    assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_1')
    with pytest.raises(checkpoints.CheckpointCorruptedError, match='cannot be read'):
      checkpoints.restore_checkpoint(latest, None)
  finally:
    latest.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_every_checkpoint_damaged_raises_without_fallback(tmp_path, msgpack):
  latest = make_two(tmp_path)
  damage_truncate(latest)
  damage_array_data(tmp_path / 'checkpoint_1')
  assert checkpoints.latest_checkpoint(tmp_path) is None
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='No intact checkpoint') as e:
    checkpoints.restore_checkpoint(tmp_path, None)
  assert e.value.fallback is None and e.value.path == str(latest)


def test_uncommitted_orbax_directory_is_skipped(tmp_path, orbax):
  checkpoints.save_checkpoint(tmp_path, {'w': np.arange(3)}, 1, keep=5)
  newest = pathlib.Path(checkpoints.save_checkpoint(tmp_path, {'w': np.arange(3) * 2}, 2, keep=5))
  # what a directory looks like before Orbax commits it: no marker, no commit time
  (newest / 'commit_success.txt').unlink()
  meta = json.loads((newest / '_CHECKPOINT_METADATA').read_text())
  meta.pop('commit_timestamp_nsecs')
  (newest / '_CHECKPOINT_METADATA').write_text(json.dumps(meta))
  assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_1')
  assert (checkpoints.restore_checkpoint(tmp_path, None)['w'] == np.arange(3)).all()
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='never committed') as e:
    checkpoints.restore_checkpoint(tmp_path, None, step=2)
  assert e.value.fallback == str(tmp_path / 'checkpoint_1')


def test_plain_directory_named_like_a_checkpoint_is_not_handed_to_orbax(tmp_path, orbax):
  checkpoints.save_checkpoint(tmp_path, {'w': np.arange(3)}, 1)
  (tmp_path / 'checkpoint_2').mkdir()
  out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(3, int)})
  assert (out['w'] == np.arange(3)).all()
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='not an Orbax checkpoint'):
    checkpoints.restore_checkpoint(tmp_path, None, step=2)


def test_latest_checkpoint_never_opens_a_fifo(tmp_path):
  os.mkfifo(tmp_path / 'checkpoint_9')  # opening it for reading would block forever
  assert checkpoints.latest_checkpoint(tmp_path) is None
  with pytest.raises(checkpoints.CheckpointCorruptedError, match='FIFO'):
    checkpoints.restore_checkpoint(tmp_path, None)


def test_save_after_corruption_respects_existing_names(tmp_path, msgpack):
  from flaxen import errors

  latest = make_two(tmp_path)
  damage_truncate(latest)
  # the damaged step still counts for bookkeeping: saving step 2 again needs overwrite
  with pytest.raises(errors.InvalidCheckpointError):
    checkpoints.save_checkpoint(tmp_path, {'w': np.zeros(1), 'step': 2}, 2)
  checkpoints.save_checkpoint(tmp_path, {'w': np.zeros(1), 'step': 2}, 2, overwrite=True, keep=5)
  assert checkpoints.restore_checkpoint(tmp_path, None)['step'] == 2


def test_relative_file_path_in_cwd(tmp_path, monkeypatch, msgpack):
  monkeypatch.chdir(tmp_path)
  checkpoints.save_checkpoint('.', {'w': np.ones(3), 'step': 1}, 1, keep=3)
  checkpoints.save_checkpoint('.', {'w': np.ones(3), 'step': 2}, 2, keep=3)
  damage_dtype_name(pathlib.Path('checkpoint_2'))
  with pytest.raises(checkpoints.CheckpointCorruptedError) as e:
    checkpoints.restore_checkpoint('checkpoint_2', None)
  assert e.value.fallback is not None and e.value.fallback.endswith('checkpoint_1')
  assert checkpoints.restore_checkpoint('checkpoint_1', None)['step'] == 1


def test_mismatches_are_raised_not_skipped(tmp_path, msgpack):
  checkpoints.save_checkpoint(tmp_path, {'a': np.ones(2)}, 1, keep=3)
  checkpoints.save_checkpoint(tmp_path, {'b': np.ones(2)}, 2, keep=3)
  with pytest.raises(ValueError) as e:  # the newest does not fit: an error, not a fallback
    checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(2)})
  assert not isinstance(e.value, checkpoints.CheckpointCorruptedError)


def test_orbax_missing_entries_keep_the_target_value_like_the_reference(tmp_path, orbax):
  checkpoints.save_checkpoint(tmp_path, {'b': np.ones(2)}, 2)
  out = checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(2)})
  assert list(out) == ['a'] and (out['a'] == 0).all()


def test_restore_waits_for_an_async_orbax_checkpointer(tmp_path):
  ckptr = checkpoints.ocp.AsyncCheckpointer(checkpoints.ocp.PyTreeCheckpointHandler())
  ckptr.save(str(tmp_path / 'checkpoint_1'), {'w': np.arange(100_000)})  # Orbax directly
  out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(100_000, int)},
                                       orbax_checkpointer=ckptr)
  assert (out['w'] == np.arange(100_000)).all()
  ckptr.close()
