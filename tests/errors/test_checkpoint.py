"""flaxen._src.errors.checkpoint: the checkpoint errors, their messages, attributes, pickling."""

import os
import pickle

import numpy as np
import pytest

from flaxen import errors, serialization
from flaxen.training import checkpoints

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'
DOCS = 'flax.readthedocs.io'

# name -> (args, expected attributes, built-in base, exact message before the link)
CASES = {
  'AlreadyExistsError': (
    ('/ck/checkpoint_3',), {'path': '/ck/checkpoint_3'}, FileExistsError,
    'Trying overwrite an existing file: "/ck/checkpoint_3".'),
  'InvalidCheckpointError': (
    ('/ck/checkpoint_2', 2), {'path': '/ck/checkpoint_2', 'step': 2}, ValueError,
    'Trying to save an outdated checkpoint at step: "2" and path: "/ck/checkpoint_2".'),
  'MPACheckpointingRequiredError': (
    ('/ck', 7), {'path': '/ck', 'step': 7}, ValueError,
    'Checkpoint failed at step: "7" and path: "/ck": Target contains a multiprocess array '
    'should be saved/restored with a GlobalAsyncCheckpointManager. flaxen has no '
    'GlobalAsyncCheckpointManager path: it writes arrays that span processes with Orbax. Turn '
    'Orbax checkpointing back on with flaxen.config.update("flax_use_orbax_checkpointing", True) '
    '(the default), or pass orbax_checkpointer=orbax.checkpoint.PyTreeCheckpointer() to '
    'save_checkpoint_multiprocess.'),
  'MPARestoreDataCorruptedError': (
    (4, '/ck_gda'), {'step': 4, 'path': '/ck_gda'}, ValueError,
    'Restore checkpoint failed at step: "4" on multiprocess array at  "/ck_gda": No '
    '"commit_success.txt" found on this "_gda" directory. Was its save halted before '
    'completion?'),
  'MPARestoreTypeNotMatchError': (
    (5, '/g'), {'step': 5, 'gda_path': '/g'}, TypeError,
    'Restore checkpoint failed at step: "5" on multiprocess array at "/g": The array type '
    'provided by the target does not match the JAX global configuration, namely the '
    'jax.config.jax_array.'),
}


@pytest.mark.parametrize('name', sorted(CASES))
def test_message_attributes_and_bases(name):
  args, attrs, builtin, text = CASES[name]
  cls = getattr(errors, name)
  assert cls.__module__ == 'flaxen.errors'
  err = cls(*args)
  assert isinstance(err, builtin) and isinstance(err, errors.FlaxError)
  assert str(err) == f'{text} ({URL}{name})'
  assert err.message == text
  for k, v in attrs.items():
    assert getattr(err, k) == v


@pytest.mark.parametrize('name', sorted(CASES))
def test_pickle_round_trip(name):
  args, attrs, _, _ = CASES[name]
  err = getattr(errors, name)(*args)
  back = pickle.loads(pickle.dumps(err))
  assert type(back) is type(err)
  assert str(back) == str(err)
  assert {k: getattr(back, k) for k in attrs} == attrs


def test_mpa_restore_target_required_key_is_optional():
  without = errors.MPARestoreTargetRequiredError('/ck', 3)
  assert without.key is None and 'This error fired' not in str(without)
  assert 'step: "3" and path: "/ck":' in str(without)
  assert 'allow_partial_mpa_restoration=True' in str(without)
  with_key = errors.MPARestoreTargetRequiredError('/ck', 3, key='params/w')
  assert with_key.key == 'params/w'
  assert 'This error fired when trying to restore array at params/w.' in str(with_key)
  back = pickle.loads(pickle.dumps(with_key))
  assert (back.path, back.step, back.key) == ('/ck', 3, 'params/w')


def test_already_exists_is_caught_as_os_error():
  with pytest.raises(OSError, match='existing file'):
    raise errors.AlreadyExistsError('/x')


def test_invalid_checkpoint_error_from_save_checkpoint(tmp_path):
  from flaxen import config

  with config.temp_flip_flag('use_orbax_checkpointing', False):  # the legacy format's check
    _outdated_steps_are_refused(str(tmp_path))


def _outdated_steps_are_refused(d):
  checkpoints.save_checkpoint(d, {'w': np.zeros(2)}, 5)
  with pytest.raises(errors.InvalidCheckpointError) as info:
    checkpoints.save_checkpoint(d, {'w': np.ones(2)}, 3)
  assert info.value.step == 3
  assert os.path.basename(info.value.path) == 'checkpoint_3'
  assert f'step: "3" and path: "{info.value.path}"' in str(info.value)
  # the same step is also outdated; overwrite=True is the documented escape hatch
  with pytest.raises(errors.InvalidCheckpointError):
    checkpoints.save_checkpoint(d, {'w': np.ones(2)}, 5)
  checkpoints.save_checkpoint(d, {'w': np.ones(2)}, 5, overwrite=True)
  restored = checkpoints.restore_checkpoint(d, {'w': np.zeros(2)})
  np.testing.assert_array_equal(restored['w'], np.ones(2))


# --- the restore errors flaxen adds ----------------------------------------------------


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
  assert msg.startswith('Checkpoint "/d/checkpoint_7" is corrupted or incomplete '
                        '(truncated); nothing was restored.')
  assert 'The newest intact checkpoint in that directory is "/d/checkpoint_6"' in msg
  assert DOCS not in msg  # no reference page exists for this class
  assert err.message == msg
  none = checkpoints.CheckpointCorruptedError('/d/x', 'not msgpack')
  assert none.fallback is None
  assert 'No intact checkpoint was found next to it.' in str(none)
  assert 'newest intact' not in str(none)


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
