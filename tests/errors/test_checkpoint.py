"""flaxen._src.errors.checkpoint: the checkpoint errors, their messages, attributes, pickling."""

import os
import pickle

import numpy as np
import pytest

from flaxen import errors
from flaxen.training import checkpoints

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'

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
    'should be saved/restored with a GlobalAsyncCheckpointManager.'),
  'MPARestoreDataCorruptedError': (
    (4, '/ck_gda'), {'step': 4, 'path': '/ck_gda'}, ValueError,
    'Restore checkpoint failed at step: "4" on multiprocess array at "/ck_gda": No '
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
  assert without.key is None and 'for key' not in str(without)
  assert 'step: "3" and path: "/ck":' in str(without)
  assert 'allow_partial_mpa_restoration=True' in str(without)
  with_key = errors.MPARestoreTargetRequiredError('/ck', 3, key='params/w')
  assert with_key.key == 'params/w'
  assert 'path: "/ck" for key "params/w": Checkpoints' in str(with_key)
  back = pickle.loads(pickle.dumps(with_key))
  assert (back.path, back.step, back.key) == ('/ck', 3, 'params/w')


def test_already_exists_is_caught_as_os_error():
  with pytest.raises(OSError, match='existing file'):
    raise errors.AlreadyExistsError('/x')


def test_invalid_checkpoint_error_from_save_checkpoint(tmp_path):
  d = str(tmp_path)
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
