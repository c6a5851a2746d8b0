"""BatchNorm: train/eval, running averages, merge_param, init, axis_name under vmap/pmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((8, 5)) * 2 + 1, jnp.float32)


def np_bn(x, axes, eps):
  m = x.mean(axes, keepdims=True)
  v = x.var(axes, keepdims=True)
  return (x - m) / np.sqrt(v + eps)


def test_variables_layout_and_init_does_not_update():
  bn = nn.BatchNorm(use_running_average=False)
  variables = bn.init(KEY, X)
  assert list(variables) == ['batch_stats', 'params']
  assert list(variables['batch_stats']) == ['mean', 'var']
  assert list(variables['params']) == ['scale', 'bias']
  np.testing.assert_array_equal(variables['batch_stats']['mean'], np.zeros(5))
  np.testing.assert_array_equal(variables['batch_stats']['var'], np.ones(5))


def test_train_step_normalizes_and_updates_running_stats():
  bn = nn.BatchNorm(momentum=0.9)
  variables = bn.init(KEY, X, use_running_average=False)
  y, upd = bn.apply(variables, X, use_running_average=False, mutable=['batch_stats'])
  np.testing.assert_allclose(y, np_bn(np.asarray(X), 0, 1e-5), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(upd['batch_stats']['mean'], 0.1 * np.asarray(X).mean(0), rtol=1e-5)
  np.testing.assert_allclose(upd['batch_stats']['var'], 0.9 + 0.1 * np.asarray(X).var(0),
                             rtol=1e-5)


def test_eval_uses_running_stats_without_mutation():
  bn = nn.BatchNorm(use_running_average=True, epsilon=0.0)
  variables = bn.init(KEY, X)
  variables = {'params': variables['params'],
               'batch_stats': {'mean': jnp.full((5,), 1.0), 'var': jnp.full((5,), 4.0)}}
  np.testing.assert_allclose(bn.apply(variables, X), (np.asarray(X) - 1.0) / 2.0, rtol=1e-6)


def test_training_without_mutable_raises():
  bn = nn.BatchNorm(use_running_average=False)
  variables = bn.init(KEY, X)
  with pytest.raises(errors.ModifyScopeVariableError):
    bn.apply(variables, X)


def test_merge_param_errors():
  with pytest.raises(ValueError, match='use_running_average'):
    nn.BatchNorm().init(KEY, X)
  with pytest.raises(ValueError, match='use_running_average'):
    nn.BatchNorm(use_running_average=True).init(KEY, X, use_running_average=True)


def test_feature_axis_and_mask():
  x = jnp.asarray(np.random.default_rng(1).standard_normal((4, 3, 6)), jnp.float32)
  bn = nn.BatchNorm(use_running_average=False, axis=1, use_scale=False)
  variables = bn.init(KEY, x)
  assert list(variables['params']) == ['bias'] and variables['batch_stats']['mean'].shape == (3,)
  y, _ = bn.apply(variables, x, mutable=['batch_stats'])
  np.testing.assert_allclose(y, np_bn(np.asarray(x), (0, 2), 1e-5), rtol=1e-4, atol=1e-5)

  mask = jnp.arange(8)[:, None].repeat(5, 1) < 6
  bn2 = nn.BatchNorm(use_running_average=False, momentum=0.0)
  v2 = bn2.init(KEY, X)
  _, upd = bn2.apply(v2, X, mask=mask, mutable=['batch_stats'])
  np.testing.assert_allclose(upd['batch_stats']['mean'], np.asarray(X)[:6].mean(0), rtol=1e-5)


def test_dtypes():
  bn = nn.BatchNorm(use_running_average=False, dtype=jnp.bfloat16)
  variables = bn.init(KEY, X)
  y, upd = bn.apply(variables, X, mutable=['batch_stats'])
  assert y.dtype == jnp.bfloat16 and upd['batch_stats']['mean'].dtype == jnp.float32
  y16, _ = nn.BatchNorm(use_running_average=False).apply(
    variables, X.astype(jnp.bfloat16), mutable=['batch_stats'])
  assert y16.dtype == jnp.float32  # promoted with the float32 params


def test_axis_name_under_vmap_matches_full_batch():
  bn = nn.BatchNorm(use_running_average=False, axis_name='batch')
  variables = bn.init(KEY, X)  # init ignores axis_name
  xs = X.reshape(2, 4, 5)
  y, upd = jax.vmap(lambda x: bn.apply(variables, x, mutable=['batch_stats']),
                    axis_name='batch', out_axes=(0, None))(xs)
  full, full_upd = nn.BatchNorm(use_running_average=False).apply(
    variables, X, mutable=['batch_stats'])
  np.testing.assert_allclose(y.reshape(8, 5), full, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(upd['batch_stats']['var'], full_upd['batch_stats']['var'], rtol=1e-5)


def test_axis_index_groups_under_pmap():
  n = jax.local_device_count()
  if n < 4:
    pytest.skip('needs 4 devices (conftest provides 8 fake CPU devices)')
  bn = nn.BatchNorm(use_running_average=False, axis_name='i',
                    axis_index_groups=[[0, 1], [2, 3]])
  variables = bn.init(KEY, X[:2])
  xs = X.reshape(4, 2, 5)
  f = jax.pmap(lambda x: bn.apply(variables, x, mutable=['batch_stats'])[0], axis_name='i',
               devices=jax.local_devices()[:4])
  y = f(xs)
  first_group = nn.BatchNorm(use_running_average=False).apply(
    variables, X[:4], mutable=['batch_stats'])[0]
  np.testing.assert_allclose(y[:2].reshape(4, 5), first_group, rtol=1e-4, atol=1e-5)


def test_stored_statistics_are_used_as_given_like_the_reference():
  # batch_stats of another (broadcastable) shape are not refused
  bn = nn.BatchNorm(use_running_average=True)
  variables = {'params': {'scale': jnp.ones(3), 'bias': jnp.zeros(3)},
               'batch_stats': {'mean': jnp.zeros(1), 'var': jnp.ones(1)}}
  x = jnp.arange(12.0).reshape(4, 3)
  np.testing.assert_allclose(bn.apply(variables, x), x / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_out_of_range_axis_is_the_references_index_error():
  with pytest.raises(IndexError, match=r'^BatchNorm "/": tuple index out of range'):
    nn.BatchNorm(use_running_average=True, axis=2).init(KEY, X)
  # -rank-1 is shifted once and then indexes from the end, as in the reference
  a = nn.BatchNorm(use_running_average=False, axis=-3).init(KEY, X)
  assert a['batch_stats']['mean'].shape == (5,)


def test_feature_axes_are_deduplicated_and_ordered_like_the_reference():
  x = jnp.asarray(np.random.default_rng(3).standard_normal((4, 3, 2)), jnp.float32)
  y, v = nn.BatchNorm(use_running_average=False, axis=(2, 1)).init_with_output(KEY, x)
  assert v['batch_stats']['mean'].shape == (3, 2) and v['params']['scale'].shape == (3, 2)
  y2, _ = nn.BatchNorm(use_running_average=False, axis=(1, 2)).init_with_output(KEY, x)
  np.testing.assert_array_equal(y, y2)


def test_without_float32_reductions_statistics_live_in_param_dtype():
  bn = nn.BatchNorm(force_float32_reductions=False, param_dtype=jnp.bfloat16)
  x = jnp.asarray(np.random.default_rng(4).standard_normal((6, 3)), jnp.bfloat16)
  variables = bn.init(KEY, x, use_running_average=False)
  assert variables['batch_stats']['mean'].dtype == jnp.bfloat16
  assert variables['batch_stats']['var'].dtype == jnp.bfloat16
  y, updates = bn.apply(variables, x, use_running_average=False, mutable=['batch_stats'])
  assert y.dtype == jnp.bfloat16 and updates['batch_stats']['mean'].dtype == jnp.bfloat16
  assert bn.apply(variables, x, use_running_average=True).dtype == jnp.bfloat16
  # the default keeps float32 statistics
  default = nn.BatchNorm(param_dtype=jnp.bfloat16).init(KEY, x, use_running_average=False)
  assert default['batch_stats']['mean'].dtype == jnp.float32


def test_nested_path_appears_in_errors():
  class Net(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.LayerNorm(reduction_axes=3, name='norm')(x)

  with pytest.raises(IndexError, match=r'^LayerNorm "/norm": tuple index out of range'):
    Net().init(KEY, X)
