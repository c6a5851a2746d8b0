"""common_utils: shard, shard_prng_key, stack_forest, get_metrics, onehot."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import jax_utils
from flaxen.training import common_utils


def test_shard_and_error():
  n = jax.local_device_count()
  out = common_utils.shard({'x': np.arange(4 * n * 3).reshape(4 * n, 3), 'y': jnp.zeros(2 * n)})
  assert out['x'].shape == (n, 4, 3) and out['y'].shape == (n, 2)
  np.testing.assert_array_equal(out['x'][1, 0], np.arange(12, 15))
  # the reference's errors: those of ``leaf.reshape`` (flaxen adds a note)
  with pytest.raises(ValueError, match='cannot reshape array of size') as info:
    common_utils.shard(np.zeros(n + 1))
  if hasattr(info.value, '__notes__'):
    assert 'cannot be split over' in info.value.__notes__[0]
  with pytest.raises(TypeError, match='cannot reshape array of shape'):
    common_utils.shard(jnp.zeros(n + 1))
  with pytest.raises(AttributeError, match="'float' object has no attribute 'reshape'"):
    common_utils.shard({'lr': 0.1})


def test_shard_prng_key():
  keys = common_utils.shard_prng_key(jax.random.PRNGKey(0))
  assert keys.shape == (jax.local_device_count(), 2)
  assert len({tuple(np.asarray(k)) for k in keys}) == jax.local_device_count()


def test_stack_forest_and_get_metrics():
  forest = [{'a': np.array(i), 'b': np.ones(2) * i} for i in range(3)]
  out = common_utils.stack_forest(forest)
  np.testing.assert_array_equal(out['a'], [0, 1, 2])
  assert out['b'].shape == (3, 2)
  # ``jnp.stack``, as in the reference: jax arrays, with JAX's dtypes
  assert isinstance(out['b'], jax.Array) and out['b'].dtype == jnp.float32
  device_metrics = [jax_utils.replicate({'loss': jnp.float32(i)}) for i in range(4)]
  got = common_utils.get_metrics(device_metrics)
  assert isinstance(got['loss'], jax.Array)
  np.testing.assert_array_equal(got['loss'], [0, 1, 2, 3])


def test_get_metrics_reads_the_first_local_shard():
  step = jax.pmap(lambda x: {'loss': x * 2})
  n = jax.local_device_count()
  got = common_utils.get_metrics([step(jnp.arange(float(n)) + s) for s in range(3)])
  np.testing.assert_array_equal(got['loss'], [0.0, 2.0, 4.0])
  # an array with several rows per device is not replicated: the reference refuses it
  mesh = jax.sharding.Mesh(np.array(jax.devices()), ('d',))
  spread = jax.device_put(jnp.zeros((2 * n,)), jax.sharding.NamedSharding(
    mesh, jax.sharding.PartitionSpec('d')))
  with pytest.raises(ValueError, match='cannot select an axis to squeeze out'):
    common_utils.get_metrics([{'loss': spread}])


def test_onehot():
  np.testing.assert_array_equal(common_utils.onehot(jnp.array([0, 2]), 3), [[1, 0, 0], [0, 0, 1]])
  out = common_utils.onehot(jnp.array([[1], [5]]), 3, on_value=0.9, off_value=0.05)
  assert out.shape == (2, 1, 3) and out.dtype == jnp.float32
  np.testing.assert_allclose(out[0, 0], [0.05, 0.9, 0.05])
  np.testing.assert_allclose(out[1, 0], [0.05, 0.05, 0.05])
  np.testing.assert_array_equal(common_utils.onehot(np.array([1, 0]), 2), jax.nn.one_hot(np.array([1, 0]), 2))
