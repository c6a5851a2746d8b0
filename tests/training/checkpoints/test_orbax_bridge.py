"""The optional Orbax backend (skipped when orbax-checkpoint is not installed)."""

import numpy as np
import pytest

from flaxen import config
from flaxen._src.training.checkpoints import orbax_bridge
from flaxen.training import checkpoints


def test_orbax_directories_are_recognised(tmp_path):
  assert not orbax_bridge.looks_like_orbax(str(tmp_path))
  (tmp_path / '_METADATA').write_text('{}')
  assert orbax_bridge.looks_like_orbax(str(tmp_path))
  assert not orbax_bridge.looks_like_orbax(str(tmp_path / '_METADATA'))


def test_round_trip_through_orbax(tmp_path):
  pytest.importorskip('orbax.checkpoint')
  tree = {'a': np.arange(4), 'b': {'c': np.ones(2, np.float32)}}
  with config.temp_flip_flag('use_orbax_checkpointing', True):
    for step in range(3):
      checkpoints.save_checkpoint(tmp_path, tree, step, keep=2)
    assert checkpoints.available_steps(tmp_path) == [1, 2]
    out = checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(4, int), 'b': {'c': np.zeros(2, np.float32)}})
    np.testing.assert_array_equal(out['a'], tree['a'])
    with pytest.raises(ValueError, match='pytrees'):
      checkpoints.save_checkpoint(tmp_path, np.arange(3), 5)
