"""SpectralNorm and WeightNorm wrappers: variable names, normalization, stats updates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5)), jnp.float32)


def test_weight_norm_dense():
  layer = nn.WeightNorm(nn.Dense(4))
  variables = layer.init(KEY, X)
  p = variables['params']
  assert list(p) == ['layer_instance/kernel/scale', 'layer_instance']
  assert list(p['layer_instance']) == ['bias', 'kernel']
  k = np.asarray(p['layer_instance']['kernel'])
  scale = np.full(4, 2.0)
  p = {**p, 'layer_instance/kernel/scale': jnp.asarray(scale)}
  y = layer.apply({'params': p}, X)
  k_bar = k / np.linalg.norm(k, axis=0, keepdims=True) * scale
  np.testing.assert_allclose(y, np.asarray(X) @ k_bar, rtol=1e-5, atol=1e-5)


def test_weight_norm_scalar_scale_and_filter():
  layer = nn.WeightNorm(nn.Conv(3, (3, 3)), feature_axes=None)
  variables = layer.init(KEY, jnp.ones((1, 5, 5, 3)))
  assert variables['params']['layer_instance/kernel/scale'].shape == ()
  every = nn.WeightNorm(nn.Dense(4), variable_filter=None)
  names = list(every.init(KEY, X)['params'])
  assert 'layer_instance/bias/scale' in names and 'layer_instance/kernel/scale' in names


def test_spectral_norm_dense_power_iteration():
  layer = nn.SpectralNorm(nn.Dense(4), n_steps=30)
  variables = layer.init(KEY, X, update_stats=True)
  assert list(variables['batch_stats']) == ['layer_instance/kernel/u',
                                           'layer_instance/kernel/sigma']
  # As in the reference, init stores the normalized kernel (map_variables with init=True),
  # and sigma is the largest singular value of the freshly initialized kernel.
  k = np.asarray(variables['params']['layer_instance']['kernel'])
  np.testing.assert_allclose(np.linalg.svd(k, compute_uv=False)[0], 1.0, rtol=1e-4)
  assert float(variables['batch_stats']['layer_instance/kernel/sigma']) > 0
  bias = np.asarray(variables['params']['layer_instance']['bias'])
  y, upd = layer.apply(variables, X, update_stats=True, mutable=['batch_stats'])
  np.testing.assert_allclose(upd['batch_stats']['layer_instance/kernel/sigma'], 1.0, rtol=1e-4)
  np.testing.assert_allclose(y, np.asarray(X) @ k + bias, rtol=1e-4, atol=1e-5)
  # Without update_stats nothing needs to be mutable.
  y2 = layer.apply({**variables, **upd}, X, update_stats=False)
  np.testing.assert_allclose(y2, y, rtol=1e-4, atol=1e-5)


def test_spectral_norm_conv_reshapes_kernel():
  layer = nn.SpectralNorm(nn.Conv(3, (3, 3)))
  variables = layer.init(KEY, jnp.ones((1, 5, 5, 2)), update_stats=True)
  assert variables['batch_stats']['layer_instance/kernel/u'].shape == (1, 3)
  with pytest.raises(ValueError) as info:
    nn.SpectralNorm(nn.Conv(3, (3, 3)), error_on_non_matrix=True).init(
      KEY, jnp.ones((1, 5, 5, 2)), update_stats=True)
  assert str(info.value).startswith(
    'SpectralNorm "/": Input is 4D but error_on_non_matrix is True')


def test_weight_norm_feature_axes_in_the_references_order():
  layer = nn.WeightNorm(nn.Conv(4, (3,)), feature_axes=(2, 1))
  variables = layer.init(KEY, jnp.ones((1, 5, 2)))
  assert variables['params']['layer_instance/kernel/scale'].shape == (2, 4)
  with pytest.raises(IndexError, match='tuple index out of range'):
    nn.WeightNorm(nn.Dense(3), feature_axes=5).init(KEY, jnp.ones((2, 3)))


def test_intercepted_method_names_are_the_references():
  seen = []

  def record(next_fun, args, kwargs, context):
    seen.append((type(context.module).__name__, context.method_name))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(record):
    nn.SpectralNorm(nn.Dense(3)).init(KEY, jnp.ones((2, 4)), update_stats=True)
    nn.WeightNorm(nn.Dense(3)).init(KEY, jnp.ones((2, 4)))
    nn.Conv(2, (3,)).init(KEY, jnp.ones((1, 5, 2)))
  names = {name for name in seen if name[1] != '<lambda>'}
  assert names == {
    ('SpectralNorm', '__call__'), ('SpectralNorm', '_spectral_normalize'),
    ('WeightNorm', '__call__'), ('WeightNorm', '_l2_normalize'),
    ('Dense', 'layer_forward'), ('Dense', '__call__'), ('Conv', '__call__')}
