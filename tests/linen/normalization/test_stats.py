"""The shared statistics and affine map of the normalization layers (mostly via LayerNorm/RMSNorm)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.linen.normalization import stats

NO_PARAMS = dict(use_scale=False, use_bias=False)


def test_one_pass_variance_is_clamped_at_zero():
  # Constant rows: E[x²] - E[x]² can round below zero; the clamp keeps rsqrt finite.
  x = jnp.full((4, 7), 1e4 / 3, jnp.float32)
  y = nn.LayerNorm(epsilon=0.0, **NO_PARAMS).apply({}, x)
  assert not np.isnan(np.asarray(y)).any()


def test_two_pass_variance_is_more_accurate_for_large_means():
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((2, 64)) + 1e4, jnp.float32)
  exact = (np.asarray(x, np.float64) - np.asarray(x, np.float64).mean(-1, keepdims=True))
  exact /= np.sqrt(exact.var(-1, keepdims=True) + 1e-6)
  slow = nn.LayerNorm(use_fast_variance=False, **NO_PARAMS).apply({}, x)
  np.testing.assert_allclose(slow, exact, rtol=1e-2, atol=1e-2)


def test_mask_restricts_statistics():
  x = jnp.array([[1.0, 3.0, 100.0]])
  mask = jnp.array([[True, True, False]])
  y = nn.LayerNorm(epsilon=0.0, **NO_PARAMS).apply({}, x, mask=mask)
  np.testing.assert_allclose(y[0, :2], [-1.0, 1.0], rtol=1e-6)


def test_complex_inputs_use_abs_square():
  x = jnp.array([[1 + 1j, -1 - 1j]], jnp.complex64)
  y = nn.LayerNorm(epsilon=0.0, **NO_PARAMS).apply({}, x)
  assert y.dtype == jnp.complex64
  np.testing.assert_allclose(y, x / np.sqrt(2), rtol=1e-6)


def test_float64_statistics_stay_float64():
  with jax.enable_x64(True):
    x = jnp.asarray(np.random.default_rng(1).standard_normal((3, 5)), jnp.float64)
    y = nn.RMSNorm(use_scale=False).apply({}, x)
    assert y.dtype == jnp.float64
    ref = np.asarray(x) / np.sqrt((np.asarray(x) ** 2).mean(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(y, ref, rtol=1e-12)


@pytest.mark.parametrize('layer', [nn.LayerNorm, nn.RMSNorm, nn.GroupNorm, nn.InstanceNorm])
def test_partitioned_scale_keeps_its_box(layer):
  init = nn.meta.with_partitioning(nn.initializers.ones, ('model',))
  kwargs = {'num_groups': 2} if layer is nn.GroupNorm else {}
  x = jnp.ones((2, 3, 4))
  variables = layer(scale_init=init, **kwargs).init(jax.random.PRNGKey(0), x)
  scale = variables['params']['scale']
  assert isinstance(scale, nn.meta.Partitioned) and scale.names == ('model',)
  assert layer(scale_init=init, **kwargs).apply(variables, x).shape == x.shape


def test_compute_stats_is_keyword_only_and_matches_the_one_pass_formula():
  x = jnp.asarray(np.random.default_rng(2).standard_normal((3, 8)), jnp.float32)
  with pytest.raises(TypeError):
    stats.compute_stats(x, -1, None)  # dtype must be given by keyword
  mean, var = stats.compute_stats(x, -1, dtype=None)
  np.testing.assert_array_equal(mean, x.mean(-1))
  np.testing.assert_array_equal(var, jnp.maximum(0.0, (x * x).mean(-1) - mean * mean))
  zero, ms = stats.compute_stats(x, (1,), dtype=None, use_mean=False)
  assert not zero.any()
  np.testing.assert_array_equal(ms, (x * x).mean(-1))


def test_affine_reads_the_layers_fields():
  class Probe(nn.Module):
    use_bias: bool = True
    use_scale: bool = True
    epsilon: float = 0.5
    dtype: object = None
    param_dtype: object = jnp.float32
    scale_init: object = nn.initializers.constant(2.0)
    bias_init: object = nn.initializers.constant(1.0)
    force_float32_reductions: bool = True

    @nn.compact
    def __call__(self, x):
      mean, var = x.mean(-1), x.var(-1)
      return stats.affine(self, x, mean, var, reduction_axes=-1, feature_axes=-1)

  x = jnp.arange(6.0).reshape(2, 3)
  y, v = Probe().init_with_output(jax.random.PRNGKey(0), x)
  assert list(v['params']) == ['scale', 'bias']
  ref = (x - x.mean(-1, keepdims=True)) * (jax.lax.rsqrt(x.var(-1, keepdims=True) + 0.5) * 2.0)
  np.testing.assert_allclose(y, ref + 1.0, rtol=1e-6)
  with pytest.raises(TypeError):
    stats.affine(Probe(), x, x.mean(-1), x.var(-1), -1, -1)  # axes are keyword-only
