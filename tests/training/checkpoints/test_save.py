"""save_checkpoint: naming, bytes, keep / keep_every_n_steps / overwrite bookkeeping."""

import os
import pathlib

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import config, errors, serialization
from flaxen.training import checkpoints, train_state


def steps(d, prefix='checkpoint_'):
  return checkpoints.available_steps(d, prefix)


def test_returns_path_and_writes_to_bytes_exactly(tmp_path):
  target = {'params': {'w': jnp.arange(6.0).reshape(2, 3)}, 'step': 3, 'name': 'x'}
  path = checkpoints.save_checkpoint(tmp_path / 'run', target, 0, overwrite=True, keep=2)
  assert path == os.path.join(str(tmp_path / 'run'), 'checkpoint_0')
  assert pathlib.Path(path).read_bytes() == serialization.to_bytes(target)
  assert os.listdir(tmp_path / 'run') == ['checkpoint_0']


def test_guide_returns_relative_path(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  got = checkpoints.save_checkpoint(ckpt_dir='tmp/flax-checkpointing', target={'a': 1}, step=0,
                                    overwrite=True, keep=2)
  assert got == 'tmp/flax-checkpointing/checkpoint_0'


def test_keep_and_keep_every_n_steps_guide(tmp_path):
  # Orbax migration guide (L7468-L7479): steps 0..4, keep=3, keep_every_n_steps=2
  tree = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
  for step in range(5):
    checkpoints.save_checkpoint(tmp_path, tree, step=step, prefix='test_', keep=3,
                                keep_every_n_steps=2)
  assert steps(tmp_path, 'test_') == [0, 2, 3, 4]


def test_keep_every_n_steps_over_a_long_run(tmp_path):
  for step in range(0, 50):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=2, keep_every_n_steps=10)
  assert steps(tmp_path) == [0, 10, 20, 30, 40, 48, 49]


def test_keep_only_newest(tmp_path):
  for step in range(6):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=2)
  assert steps(tmp_path) == [4, 5]
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'s': 5}


@pytest.mark.parametrize('step', [3, 5])
def test_outdated_step_without_overwrite_raises(tmp_path, step):
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 5)
  with pytest.raises(errors.InvalidCheckpointError) as e:
    checkpoints.save_checkpoint(tmp_path, {'v': 2}, step)
  assert e.value.step == step and e.value.path.endswith(f'checkpoint_{step}')
  assert isinstance(e.value, ValueError)
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 1}


def test_overwrite_replaces_same_step_and_deletes_newer(tmp_path):
  for step in (1, 2, 3):
    checkpoints.save_checkpoint(tmp_path, {'v': step}, step, keep=5)
  checkpoints.save_checkpoint(tmp_path, {'v': 20}, 2, overwrite=True, keep=5)
  assert steps(tmp_path) == [1, 2]
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 20}
  checkpoints.save_checkpoint(tmp_path, {'v': 21}, 2, overwrite=True, keep=5)
  assert checkpoints.restore_checkpoint(tmp_path, None) == {'v': 21}


def test_float_steps_and_prefix_with_directory(tmp_path):
  checkpoints.save_checkpoint(tmp_path, {'v': 1}, 0.5, prefix='sub/m_')
  checkpoints.save_checkpoint(tmp_path / 'sub', {'v': 2}, 1.5, prefix='m_', keep=3)
  assert checkpoints.available_steps(tmp_path / 'sub', 'm_', float) == [0.5, 1.5]


@pytest.mark.parametrize('keep', [0, -1, 1.5])
def test_invalid_keep(tmp_path, keep):
  with pytest.raises(ValueError, match='keep'):
    checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1, keep=keep)
  with pytest.raises(ValueError, match='keep_every_n_steps'):
    checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1, keep_every_n_steps=0)


def test_train_state_round_trip(tmp_path):
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


def test_orbax_flag_without_orbax_is_a_clear_error(tmp_path):
  try:
    import orbax.checkpoint  # noqa: F401
    pytest.skip('orbax-checkpoint is installed')
  except ImportError:
    pass
  with config.temp_flip_flag('use_orbax_checkpointing', True):
    with pytest.raises(ImportError, match='orbax-checkpoint'):
      checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1)


def test_numpy_integer_keep(tmp_path):
  for step in range(3):
    checkpoints.save_checkpoint(tmp_path, {'s': step}, step, keep=np.int64(2))
  assert steps(tmp_path) == [1, 2]
