"""flaxen._src.training.checkpoints.errors: the two restore errors flaxen adds.

``CheckpointCorruptedError`` (a ``MsgpackDecodeError``) and ``CheckpointMismatchError``
(strict restore), their messages, attributes, public identity and pickling.
"""

import os
import pickle

import numpy as np
import pytest

from flaxen import errors, serialization
from flaxen.training import checkpoints

DOCS = 'flax.readthedocs.io'


def test_public_identity_and_bases():
  for cls in (checkpoints.CheckpointCorruptedError, checkpoints.CheckpointMismatchError):
    assert cls.__module__ == 'flaxen.training.checkpoints'
    assert getattr(errors, cls.__name__) is cls
    assert issubclass(cls, errors.FlaxError) and issubclass(cls, ValueError)
    assert pickle.loads(pickle.dumps(cls)) is cls
  assert issubclass(checkpoints.CheckpointCorruptedError, serialization.MsgpackDecodeError)
  assert not issubclass(checkpoints.CheckpointMismatchError, serialization.MsgpackDecodeError)


def test_corrupted_message_with_and_without_fallback():
  err = checkpoints.CheckpointCorruptedError('/d/checkpoint_7', 'truncated', '/d/checkpoint_6')
  assert (err.path, err.reason, err.fallback) == ('/d/checkpoint_7', 'truncated',
                                                  '/d/checkpoint_6')
  msg = str(err)
  assert msg.startswith('Checkpoint file "/d/checkpoint_7" is corrupted or incomplete '
                        '(truncated); nothing was restored.')
  assert 'The newest complete checkpoint in that directory is "/d/checkpoint_6".' in msg
  assert DOCS not in msg  # no reference page exists for this class
  assert err.message == msg
  none = checkpoints.CheckpointCorruptedError('/d/x', 'not msgpack')
  assert none.fallback is None
  assert 'No complete checkpoint was found next to it.' in str(none)
  assert 'newest complete' not in str(none)


def test_mismatch_message_lists_every_difference():
  err = checkpoints.CheckpointMismatchError(
    '/d/c_1', missing=['/a'], unexpected=('/z', '/y'),
    shape_mismatches=[('/w', (4,), (3,))], dtype_mismatches=[('/v', 'int32', 'float32')],
    kind_mismatches=[('/b', 'a sub-tree', 'an array')])
  lines = str(err).split('\n')
  assert lines == [
    'Checkpoint "/d/c_1" does not match the target:',
    '  missing in checkpoint: /a',
    '  unexpected in checkpoint: /z',
    '  unexpected in checkpoint: /y',
    '  shape mismatch at /w: target (4,), checkpoint (3,)',
    '  dtype mismatch at /v: target int32, checkpoint float32',
    '  kind mismatch at /b: target a sub-tree, checkpoint an array',
    '6 difference(s); nothing was restored.',
  ]
  assert err.unexpected == ['/z', '/y'] and isinstance(err.unexpected, list)
  assert err.message == str(err) and DOCS not in str(err)
  empty = checkpoints.CheckpointMismatchError('/p')
  assert str(empty).endswith('0 difference(s); nothing was restored.')
  assert empty.missing == [] and empty.kind_mismatches == []


def test_both_pickle_round_trip():
  for err in (checkpoints.CheckpointCorruptedError('/p', 'bad', '/q'),
              checkpoints.CheckpointMismatchError('/p', ['/a'], ['/b'], [('/c', (1,), (2,))])):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err) and vars(back) == vars(err)


def test_truncated_checkpoint_raises_corrupted_with_fallback(tmp_path):
  d = str(tmp_path)
  first = checkpoints.save_checkpoint(d, {'w': np.zeros(3)}, 1, keep=3)
  second = checkpoints.save_checkpoint(d, {'w': np.ones(3)}, 2, keep=3)
  with open(second, 'rb') as f:
    data = f.read()
  with open(second, 'wb') as f:
    f.write(data[: len(data) // 2])
  with pytest.raises(checkpoints.CheckpointCorruptedError) as info:
    checkpoints.restore_checkpoint(second, {'w': np.zeros(3)})
  assert info.value.path == second and info.value.fallback == first
  # handlers written for decode errors / ValueError catch it too
  with pytest.raises(serialization.MsgpackDecodeError):
    checkpoints.restore_checkpoint(second, None)
  restored = checkpoints.restore_checkpoint(info.value.fallback, {'w': np.ones(3)})
  np.testing.assert_array_equal(restored['w'], np.zeros(3))


def test_garbage_file_without_neighbours(tmp_path):
  path = os.path.join(str(tmp_path), 'checkpoint_3')
  with open(path, 'wb') as f:
    f.write(b'\xc1 definitely not a checkpoint')
  with pytest.raises(ValueError) as info:
    checkpoints.restore_checkpoint(path, None)
  assert isinstance(info.value, checkpoints.CheckpointCorruptedError)
  assert info.value.fallback is None


def test_strict_restore_raises_mismatch(tmp_path):
  path = checkpoints.save_checkpoint(str(tmp_path), {'w': np.zeros(3), 'b': np.ones(2),
                                                     'extra': np.ones(1)}, 1)
  target = {'w': np.zeros(4), 'b': {'x': np.ones(1)}, 'c': np.zeros(1)}
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore_checkpoint(path, target, strict=True)
  e = info.value
  assert e.path == path
  assert e.missing == ['/c'] and e.unexpected == ['/extra']
  assert [p for p, _, _ in e.shape_mismatches] == ['/w']
  assert [p for p, _, _ in e.kind_mismatches] == ['/b']
  assert '4 difference(s)' in str(e)
  wrong_dtype = {'w': np.zeros(3, np.int32), 'b': np.ones(2), 'extra': np.ones(1)}
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore_checkpoint(path, wrong_dtype, strict=True)
  assert [p for p, _, _ in info.value.dtype_mismatches] == ['/w']
