"""orbax_utils: Orbax arguments as the reference builds them (checked against flax 0.12.8)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.training import orbax_utils

ocp = orbax_utils.ocp


def test_orbax_is_a_regular_dependency():
  import orbax.checkpoint

  assert ocp is orbax.checkpoint


def test_save_args_follow_the_leaves():
  target = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
  args = orbax_utils.save_args_from_target(target)
  assert isinstance(args[1]['bar'], ocp.SaveArgs) and len(args[2]) == 3


def test_restore_args_without_jax_arrays_restore_numpy():
  args = orbax_utils.restore_args_from_target({'a': np.zeros(2), 'b': 3})
  for leaf in jax.tree_util.tree_leaves(args):
    assert type(leaf) is ocp.RestoreArgs and leaf.restore_type is np.ndarray


def test_restore_args_with_jax_arrays_keep_their_sharding():
  x = jnp.ones((4, 2))
  args = orbax_utils.restore_args_from_target({'x': x, 'n': np.zeros(1)})
  assert isinstance(args['x'], ocp.ArrayRestoreArgs) and args['x'].sharding == x.sharding
  assert args['n'].restore_type is np.ndarray


def test_mesh_argument_is_deprecated_like_the_reference():
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()[:1]), ('d',))
  spec = jax.sharding.PartitionSpec('d')
  other = jax.sharding.Mesh(np.asarray(jax.devices()[-1:]), ('d',))
  x = jax.device_put(jnp.ones(2), jax.sharding.NamedSharding(other, spec))
  with pytest.warns(DeprecationWarning, match='`mesh` arg is deprecated'):
    args = orbax_utils.restore_args_from_target({'x': x}, mesh=mesh)
  assert args['x'].sharding.mesh == mesh and args['x'].sharding.spec == spec
  with warnings.catch_warnings():
    warnings.simplefilter('error')
    orbax_utils.restore_args_from_target({'x': np.ones(2)}, mesh=mesh)  # no arrays: no warning


def test_transformations_fall_back_for_none_leaves():
  assert orbax_utils.maybe_construct_transformations({'a': 1}, 'given') == 'given'
  out = orbax_utils.maybe_construct_transformations({'a': None, 'b': {'c': None, 'd': 1}}, None)
  assert set(out) == {'a', 'b/c'}
  assert all(isinstance(t, ocp.Transform) and t.use_fallback for t in out.values())
  assert orbax_utils.maybe_construct_transformations({'a': 1}, None) == {}


def test_is_multi_device_array():
  assert not orbax_utils.is_multi_device_array(np.ones(2))
  assert not orbax_utils.is_multi_device_array(jnp.ones(2))
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()), ('d',))
  if len(jax.devices()) > 1:
    sharded = jax.device_put(jnp.ones(len(jax.devices())),
                             jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('d')))
    assert orbax_utils.is_multi_device_array(sharded)
  assert orbax_utils.Mesh is jax.sharding.Mesh
