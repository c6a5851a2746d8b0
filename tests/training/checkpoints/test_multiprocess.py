"""save_checkpoint_multiprocess in a single process (process 0 writes everything)."""

import numpy as np
import pytest

from flaxen import errors
from flaxen._src.training.checkpoints import multiprocess
from flaxen.training import checkpoints


def test_single_process_behaves_like_save_checkpoint(tmp_path):
  for step in range(4):
    path = checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': np.arange(4) + step}, step,
                                                    keep=2, overwrite=True)
  assert path == str(tmp_path / 'checkpoint_3')
  assert checkpoints.available_steps(tmp_path) == [2, 3]
  assert (checkpoints.restore_checkpoint(tmp_path, None)['m'] == np.arange(4) + 3).all()
  with pytest.raises(errors.InvalidCheckpointError):
    checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': 0}, 1)


def test_fully_addressable_arrays_are_not_multiprocess():
  import jax
  import jax.numpy as jnp
  from jax.sharding import Mesh, NamedSharding, PartitionSpec

  mesh = Mesh(np.asarray(jax.devices()).reshape(4, 2), ('x', 'y'))
  arr = jax.device_put(jnp.arange(16).reshape(8, 2), NamedSharding(mesh, PartitionSpec('x', 'y')))
  assert not multiprocess._has_multiprocess_array({'model': arr})


def test_multiprocess_arrays_need_orbax(tmp_path, monkeypatch):
  monkeypatch.setattr(multiprocess, '_has_multiprocess_array', lambda target: True)
  with pytest.raises(errors.MPACheckpointingRequiredError) as e:
    checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': 1}, 3)
  assert e.value.step == 3 and e.value.path == str(tmp_path / 'checkpoint_3')
  assert checkpoints.available_steps(tmp_path) == []
