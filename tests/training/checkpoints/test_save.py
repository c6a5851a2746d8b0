"""save_checkpoint: formats, naming, steps, keep / keep_every_n_steps / overwrite bookkeeping.

Behaviour checked against flax 0.12.8 (run in a separate environment): the Orbax
format by default, the msgpack bytes and DeprecationWarning with the flag off, the
reference's keep_every_n_steps numbering, and its handling of outdated steps.
"""

import os
import pathlib
import warnings

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import config, errors, serialization
from flaxen.training import checkpoints, train_state

DEPRECATION = (
  'Flax Checkpointing will soon be deprecated in favor of Orbax (https://github.com/google/orbax).'
  ' Please refer to the Checkpoint Upgrade Guide '
  '(https://flax.readthedocs.io/en/latest/guides/converting_and_upgrading/orbax_upgrade_guide.html)'
  ' to self-migrate your code to ocp.'
)


def steps(d, prefix='checkpoint_'):
  return checkpoints.available_steps(d, prefix)


def test_orbax_is_the_default_format(tmp_path):
  assert config.flax_use_orbax_checkpointing is True
  path = checkpoints.save_checkpoint(tmp_path, {'w': np.ones(2)}, 1)
  assert os.path.isdir(path)
  assert {'_METADATA', 'commit_success.txt', 'manifest.ocdbt'} <= set(os.listdir(path))


def test_msgpack_returns_path_and_writes_to_bytes_exactly(tmp_path, msgpack):
  target = {'params': {'w': jnp.arange(6.0).reshape(2, 3)}, 'step': 3, 'name': 'x'}
  path = checkpoints.save_checkpoint(tmp_path / 'run', target, 0, overwrite=True, keep=2)
  assert path == os.path.join(str(tmp_path / 'run'), 'checkpoint_0')
  assert pathlib.Path(path).read_bytes() == serialization.to_bytes(target)
  # the integrity record is a hidden file beside it, never a checkpoint name
  assert sorted(os.listdir(tmp_path / 'run')) == ['.checkpoint_0.flaxen-integrity', 'checkpoint_0']


def test_deprecation_warning_only_for_msgpack_saves(tmp_path):
  with config.temp_flip_flag('use_orbax_checkpointing', False):
    for save in (checkpoints.save_checkpoint, checkpoints.save_checkpoint_multiprocess):
      with pytest.warns(DeprecationWarning) as record:
        save(tmp_path / save.__name__, {'a': 1}, 1)
      assert [str(w.message) for w in record] == [DEPRECATION]
  with warnings.catch_warnings():
    warnings.simplefilter('error')  # no warning at all from Orbax saves or from restores
    checkpoints.save_checkpoint(tmp_path / 'orbax', {'a': np.ones(1)}, 1)
    checkpoints.restore_checkpoint(tmp_path / 'save_checkpoint', {'a': 0})
    checkpoints.restore_checkpoint(tmp_path / 'orbax', {'a': np.zeros(1)})


def test_guide_returns_relative_path(tmp_path, monkeypatch, fmt):
  monkeypatch.chdir(tmp_path)
  got = checkpoints.save_checkpoint(ckpt_dir='tmp/flax-checkpointing', target={'a': 1}, step=0,
                                    overwrite=True, keep=2)
  assert got == 'tmp/flax-checkpointing/checkpoint_0'
  got = checkpoints.save_checkpoint('./tmp//flax-checkpointing/', {'a': 1}, 1)
  assert got == 'tmp/flax-checkpointing/checkpoint_1'  # safe_normpath, as the reference


def test_keep_and_keep_every_n_steps_guide(tmp_path, fmt):
  # the reference, steps 0..4, keep=3, keep_every_n_steps=2: step 0 is never spared
  tree = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
  for step in range(5):
    checkpoints.save_checkpoint(tmp_path, tree, step=step, prefix='test_', keep=3,
                                keep_every_n_steps=2)
  assert steps(tmp_path, 'test_') == [1, 2, 3, 4]


def test_keep_every_n_steps_numbering_of_the_reference(tmp_path, fmt):
  for step in range(12):
    checkpoints.save_checkpoint(tmp_path, {'a': np.ones(1) * step}, step, keep=2,
                                keep_every_n_steps=3)
  assert steps(tmp_path) == [1, 4, 7, 10, 11]  # what flax 0.12.8 leaves


def test_keep_every_n_steps_over_a_long_run(tmp_path, msgpack):
  for step in range(0, 50):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=2, keep_every_n_steps=10)
  assert steps(tmp_path) == [1, 11, 21, 31, 41, 48, 49]


def test_keep_only_newest(tmp_path, fmt):
  for step in range(6):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=2)
  assert steps(tmp_path) == [4, 5]
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'s': 5}


def test_keep_zero_keeps_everything_like_the_reference(tmp_path, msgpack):
  for step in range(3):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=0)
  assert steps(tmp_path) == [0, 1, 2]


@pytest.mark.parametrize('step', [3, 5])
def test_msgpack_outdated_step_without_overwrite_raises(tmp_path, step, msgpack):
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 5)
  with pytest.raises(errors.InvalidCheckpointError) as e:
    checkpoints.save_checkpoint(tmp_path, {'v': 2}, step)
  assert e.value.step == step and e.value.path.endswith(f'checkpoint_{step}')
  assert isinstance(e.value, ValueError)
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 1}


def test_orbax_outdated_steps_follow_the_reference(tmp_path, orbax):
  checkpoints.save_checkpoint(tmp_path, {'v': np.ones(1)}, 5)
  checkpoints.save_checkpoint(tmp_path, {'v': np.ones(1) * 3}, 3)  # accepted, then pruned
  assert steps(tmp_path) == [5]
  with pytest.raises(ValueError, match=r'^Destination .*checkpoint_5 already exists\.$'):
    checkpoints.save_checkpoint(tmp_path, {'v': np.ones(1) * 2}, 5)
  checkpoints.save_checkpoint(tmp_path, {'v': np.ones(1) * 4}, 4, keep=3)
  assert steps(tmp_path) == [4, 5]


def test_overwrite_replaces_same_step_and_deletes_newer(tmp_path, fmt):
  for step in (1, 2, 3):
    checkpoints.save_checkpoint(tmp_path, {'v': step}, step, keep=5)
  checkpoints.save_checkpoint(tmp_path, {'v': 20}, 2, overwrite=True, keep=5)
  assert steps(tmp_path) == [1, 2]
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 20}
  checkpoints.save_checkpoint(tmp_path, {'v': 21}, 2, overwrite=True, keep=5)
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 21}
  assert not [n for n in os.listdir(tmp_path) if 'staging' in n or 'trash' in n or 'tmp' in n]


def test_float_steps_and_prefix_with_directory(tmp_path, fmt):
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 0.5, prefix='sub/m_')
  checkpoints.save_checkpoint(tmp_path / 'sub', {'v': 2}, 1.5, prefix='m_', keep=3)
  assert checkpoints.available_steps(tmp_path / 'sub', 'm_', float) == [0.5, 1.5]


@pytest.mark.parametrize('step', ['abc', None, True, False, float('inf'), float('-inf'),
                                  float('nan'), np.float32('nan'), [1], np.arange(2), '1x', ''])
def test_steps_that_could_never_be_found_again_are_refused(tmp_path, step, fmt):
  with pytest.raises(ValueError, match='step must be a finite number'):
    checkpoints.save_checkpoint(tmp_path, {'v': 1}, step)
  assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('step, name', [
  (7, 'checkpoint_7'), (np.int64(9), 'checkpoint_9'), (jnp.int32(4), 'checkpoint_4'),
  (jnp.asarray(6), 'checkpoint_6'), (2.5, 'checkpoint_2.5'), ('10', 'checkpoint_10'),
  (-3, 'checkpoint_-3'), (1e20, 'checkpoint_1e+20'), (np.float64(0.25), 'checkpoint_0.25'),
])
def test_numeric_steps_are_named_as_in_the_reference(tmp_path, step, name, msgpack):
  path = checkpoints.save_checkpoint(tmp_path, {'v': 1}, step)
  assert os.path.basename(path) == name
  assert checkpoints.latest_checkpoint(tmp_path) == path


@pytest.mark.parametrize('keep', [1.5, '2', None, True])
def test_keep_must_be_an_integer(tmp_path, keep, fmt):
  with pytest.raises(ValueError, match='keep must be an integer'):
    checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1, keep=keep)


def test_numpy_integer_keep(tmp_path, fmt):
  for step in range(3):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=np.int64(2))
  assert steps(tmp_path) == [1, 2]


def test_train_state_round_trip(tmp_path, fmt):
  state = train_state.TrainState.create(
    apply_fn=lambda v, x: x, params={'w': jnp.ones((2, 2))}, tx=optax.adam(1e-3))
  state = state.apply_gradients(grads={'w': jnp.ones((2, 2))})
  checkpoints.save_checkpoint(tmp_path, state, int(state.step))
  fresh = train_state.TrainState.create(
    apply_fn=state.apply_fn, params={'w': jnp.zeros((2, 2))}, tx=state.tx)
  restored = checkpoints.restore_checkpoint(tmp_path, fresh)
  assert restored.step == 1 and restored.apply_fn is state.apply_fn
  np.testing.assert_array_equal(restored.params['w'], state.params['w'])
  np.testing.assert_array_equal(restored.opt_state[0].mu['w'], state.opt_state[0].mu['w'])


def test_orbax_refuses_a_single_leaf_with_the_reference_message(tmp_path, orbax):
  with pytest.raises(ValueError, match='Orbax backend only accept pytree as save target'):
    checkpoints.save_checkpoint(tmp_path, np.arange(3), 5)
  assert steps(tmp_path) == []


def test_orbax_module_is_reachable_after_import():
  import orbax

  assert checkpoints.ocp is orbax.checkpoint
  assert checkpoints.orbax_utils.ocp is orbax.checkpoint
  assert callable(orbax.checkpoint.PyTreeCheckpointer)


def test_module_constants_of_the_reference():
  assert checkpoints.COMMIT_SUCCESS_FILE == 'commit_success.txt'
  assert (checkpoints.ORBAX_CKPT_FILENAME, checkpoints.ORBAX_MANIFEST_OCDBT,
          checkpoints.ORBAX_METADATA_FILENAME) == ('checkpoint', 'manifest.ocdbt', '_METADATA')
  assert (checkpoints.MP_ARRAY_POSTFIX, checkpoints.MP_ARRAY_PH) == ('_gda', '//GDAPlaceholder:')
  assert checkpoints.MODULE_NUM_RE.match('Dense_12').group(1) == 'Dense'
  assert checkpoints.SCHEME_RE.match('gs://b/x')['scheme'] == 'gs://'
  assert checkpoints.SIGNED_FLOAT_RE.split('a-1.5b') == ['a', '-1.5', 'b']
  assert checkpoints.UNSIGNED_FLOAT_RE.split('a-1.5b') == ['a', '1.5', 'b']
  for name in ('io', 'errors', 'serialization', 'orbax_utils', 'traverse_util', 'config',
               'process_index', 'sync_global_devices', 'safe_normpath'):
    assert hasattr(checkpoints, name), name


def test_async_orbax_checkpointer_prunes_after_commit(tmp_path):
  ckptr = checkpoints.ocp.AsyncCheckpointer(checkpoints.ocp.PyTreeCheckpointHandler())
  for step in range(4):
    checkpoints.save_checkpoint(tmp_path, {'v': np.full(3, step)}, step, keep=2,
                                orbax_checkpointer=ckptr)
  # restore waits for the pending save (and its pruning) before looking
  out = checkpoints.restore_checkpoint(tmp_path, {'v': np.zeros(3, int)})
  np.testing.assert_array_equal(out['v'], np.full(3, 3))
  assert steps(tmp_path) == [2, 3]
  ckptr.close()
