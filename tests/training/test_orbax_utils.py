"""orbax_utils needs the optional orbax-checkpoint package."""

import numpy as np
import pytest

from flaxen.training import orbax_utils


def test_without_orbax_gives_install_hint():
  try:
    import orbax.checkpoint  # noqa: F401
  except ImportError:
    with pytest.raises(ImportError, match='pip install orbax-checkpoint'):
      orbax_utils.save_args_from_target({'a': np.ones(2)})
  else:
    pytest.skip('orbax-checkpoint is installed')


def test_with_orbax():
  ocp = pytest.importorskip('orbax.checkpoint')
  target = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
  args = orbax_utils.save_args_from_target(target)
  assert isinstance(args[1]['bar'], ocp.SaveArgs)
  assert orbax_utils.restore_args_from_target(target, mesh=None) is not None
