"""LayerNorm and RMSNorm against numpy, incl. axes, no scale/bias, dtypes, fast variance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((2, 3, 6)) + 3.0, jnp.float32)


def np_ln(x, axes, eps):
  m = x.mean(axes, keepdims=True)
  return (x - m) / np.sqrt(x.var(axes, keepdims=True) + eps)


@pytest.mark.parametrize('fast', [True, False])
def test_layer_norm_default(fast):
  ln = nn.LayerNorm(use_fast_variance=fast)
  variables = ln.init(KEY, X)
  assert list(variables['params']) == ['scale', 'bias']
  np.testing.assert_allclose(ln.apply(variables, X), np_ln(np.asarray(X), -1, 1e-6),
                             rtol=1e-4, atol=1e-4)


def test_layer_norm_reduction_and_feature_axes():
  ln = nn.LayerNorm(reduction_axes=(1, 2), feature_axes=-1, use_bias=False)
  variables = ln.init(KEY, X)
  assert list(variables['params']) == ['scale'] and variables['params']['scale'].shape == (6,)
  np.testing.assert_allclose(ln.apply(variables, X), np_ln(np.asarray(X), (1, 2), 1e-6),
                             rtol=1e-4, atol=1e-4)
  ln2 = nn.LayerNorm(reduction_axes=(-2, -1), feature_axes=(-2, -1))
  assert ln2.init(KEY, X)['params']['scale'].shape == (3, 6)


def test_layer_norm_no_params_and_custom_init():
  ln = nn.LayerNorm(use_scale=False, use_bias=False)
  assert ln.init(KEY, X) == {}
  ln2 = nn.LayerNorm(scale_init=nn.initializers.constant(2.0), bias_init=nn.initializers.ones)
  v = ln2.init(KEY, X)
  np.testing.assert_allclose(ln2.apply(v, X), 2 * np_ln(np.asarray(X), -1, 1e-6) + 1,
                             rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('x_dtype, dtype, out', [
  (jnp.bfloat16, None, jnp.float32), (jnp.bfloat16, jnp.bfloat16, jnp.bfloat16),
  (jnp.float32, jnp.float16, jnp.float16),
])
def test_layer_norm_dtypes(x_dtype, dtype, out):
  ln = nn.LayerNorm(dtype=dtype)
  x = X.astype(x_dtype)
  variables = ln.init(KEY, x)
  assert variables['params']['scale'].dtype == jnp.float32
  assert ln.apply(variables, x).dtype == out


def test_layer_norm_statistics_in_float32_for_half_inputs():
  x = (jnp.ones((1, 64)) * 300.0).at[0, 0].set(302.0).astype(jnp.bfloat16)
  y = nn.LayerNorm(dtype=jnp.bfloat16).apply(
    {'params': {'scale': jnp.ones(64), 'bias': jnp.zeros(64)}}, x)
  assert bool(jnp.isfinite(y).all()) and float(y[0, 0]) > 5


def test_layer_norm_bad_axis():
  with pytest.raises(ValueError, match='LayerNorm.*out of range'):
    nn.LayerNorm(reduction_axes=5).init(KEY, X)


def test_rms_norm():
  rms = nn.RMSNorm()
  variables = rms.init(KEY, X)
  assert list(variables['params']) == ['scale']
  x = np.asarray(X)
  ref = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6)
  np.testing.assert_allclose(rms.apply(variables, X), ref, rtol=1e-5, atol=1e-5)
  two = nn.RMSNorm(reduction_axes=(-2, -1), feature_axes=(-2, -1))
  assert two.init(KEY, X)['params']['scale'].shape == (3, 6)


def test_layer_norm_axis_name():
  ln = nn.LayerNorm(axis_name='b', use_scale=False, use_bias=False)
  xs = X.reshape(2, 3, 6)
  y = jax.vmap(lambda x: ln.apply({}, x), axis_name='b')(xs)
  # Mean/var over the last axis, averaged over the named axis as well.
  x = np.asarray(xs)
  m = x.mean((-1,), keepdims=True).mean(0, keepdims=True)
  m2 = (x ** 2).mean((-1,), keepdims=True).mean(0, keepdims=True)
  np.testing.assert_allclose(y, (x - m) / np.sqrt(m2 - m ** 2 + 1e-6), rtol=1e-3, atol=1e-3)
