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


def test_layer_norm_axes_like_the_reference():
  with pytest.raises(IndexError, match=r'^LayerNorm "/": tuple index out of range'):
    nn.LayerNorm(reduction_axes=5).init(KEY, X)
  with pytest.raises(IndexError, match='tuple index out of range'):
    nn.LayerNorm(feature_axes=3).init(KEY, jnp.ones((2, 3, 4)))
  x = jnp.asarray(np.random.default_rng(7).standard_normal((2, 3, 4)), jnp.float32)
  # unsorted feature axes give params in the reference's (set) order
  y, v = nn.LayerNorm(reduction_axes=(2, 1), feature_axes=(2, 1)).init_with_output(KEY, x)
  assert v['params']['scale'].shape == (3, 4)
  # duplicated axes are dropped
  y2, _ = nn.LayerNorm(reduction_axes=(-1, 2), feature_axes=(-1, 2)).init_with_output(KEY, x)
  np.testing.assert_array_equal(y2, nn.LayerNorm().init_with_output(KEY, x)[0])


def test_without_float32_reductions_params_are_used_in_param_dtype():
  # float32 params given to a bfloat16-param layer are rounded to bfloat16 first
  x = jnp.asarray(np.random.default_rng(8).standard_normal((2, 3, 4)), jnp.float32)
  params = {'params': {'scale': jnp.full((4,), 1.001, jnp.float32),
                       'bias': jnp.full((4,), 0.001, jnp.float32)}}
  ln = nn.LayerNorm(force_float32_reductions=False, param_dtype=jnp.bfloat16)
  y = ln.apply(params, x)
  mean = x.mean(-1, keepdims=True)
  var = jnp.maximum(0.0, (x * x).mean(-1, keepdims=True) - mean * mean)
  scale = params['params']['scale'].astype(jnp.bfloat16).reshape(1, 1, 4)
  bias = params['params']['bias'].astype(jnp.bfloat16).reshape(1, 1, 4)
  ref = (x - mean) * (jax.lax.rsqrt(var + 1e-6) * scale) + bias
  np.testing.assert_array_equal(y, ref.astype(y.dtype))
  assert not np.array_equal(y, nn.LayerNorm(param_dtype=jnp.bfloat16).apply(params, x))


def test_non_boolean_masks_are_used_as_booleans():
  x = jnp.asarray(np.random.default_rng(9).standard_normal((2, 4)), jnp.float32)
  bool_mask = jnp.array([[True, True, False, True]] * 2)
  a = nn.LayerNorm().init_with_output(KEY, x, mask=bool_mask)[0]
  b = nn.LayerNorm().init_with_output(KEY, x, mask=bool_mask.astype(jnp.float32))[0]
  np.testing.assert_array_equal(a, b)


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
