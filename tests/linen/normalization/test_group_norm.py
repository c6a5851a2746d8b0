"""GroupNorm and InstanceNorm against numpy, and their configuration errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((2, 4, 4, 6)), jnp.float32)


def np_gn(x, groups, eps=1e-6):
  b = x.shape[0]
  g = x.reshape(b, -1, groups, x.shape[-1] // groups)
  m = g.mean((1, 3), keepdims=True)
  v = g.var((1, 3), keepdims=True)
  return ((g - m) / np.sqrt(v + eps)).reshape(x.shape)


@pytest.mark.parametrize('kwargs, groups', [
  (dict(num_groups=2), 2), (dict(num_groups=None, group_size=3), 2), (dict(num_groups=6), 6),
])
def test_group_norm(kwargs, groups):
  gn = nn.GroupNorm(**kwargs)
  variables = gn.init(KEY, X)
  assert variables['params']['scale'].shape == (6,)
  np.testing.assert_allclose(gn.apply(variables, X), np_gn(np.asarray(X), groups),
                             rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('kwargs, match', [
  (dict(num_groups=None), 'either `num_groups` or `group_size`'),
  (dict(num_groups=2, group_size=3), 'either `num_groups` or `group_size`'),
  (dict(num_groups=4), 'does not divide'),
  (dict(num_groups=None, group_size=4), 'not a multiple'),
])
def test_group_norm_config_errors(kwargs, match):
  with pytest.raises(ValueError, match='GroupNorm.*' + match):
    nn.GroupNorm(**kwargs).init(KEY, X)


def test_instance_norm():
  inn = nn.InstanceNorm()
  variables = inn.init(KEY, X)
  x = np.asarray(X)
  m = x.mean((1, 2), keepdims=True)
  ref = (x - m) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-6)
  np.testing.assert_allclose(inn.apply(variables, X), ref, rtol=1e-4, atol=1e-4)
  with pytest.raises(ValueError, match='InstanceNorm.*batch axis'):
    nn.InstanceNorm(feature_axes=0).init(KEY, X)
