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


EITHER = ('Either `num_groups` or `group_size` should be specified. If `group_size` is to be '
          'specified, pass `num_groups=None` as argument to override the default `num_groups` '
          'value of 32.')


@pytest.mark.parametrize('kwargs, x_shape, exc, text', [
  (dict(num_groups=None), (2, 3, 6), ValueError, EITHER),
  (dict(num_groups=2, group_size=3), (2, 3, 6), ValueError, EITHER),
  (dict(num_groups=4), (2, 3, 6), ValueError,
   'Number of groups (4) does not divide the number of channels (6).'),
  (dict(), (2, 3, 6), ValueError,
   'Number of groups (32) does not divide the number of channels (6).'),
  (dict(num_groups=-2), (2, 3, 6), ValueError,
   'Number of groups (-2) does not divide the number of channels (6).'),
  (dict(num_groups=None, group_size=4), (2, 3, 6), ValueError,
   'Number of channels (6) is not multiple of the group size (4).'),
  (dict(num_groups=2, reduction_axes=(1,)), (2, 3, 6), ValueError,
   'The reduction axes must include the final dimension as this is assumed to be the feature '
   'axis.'),
  (dict(num_groups=None, group_size=0), (2, 3, 6), ZeroDivisionError, 'integer modulo by zero'),
  (dict(num_groups=2), (), ZeroDivisionError, 'integer modulo by zero'),
])
def test_group_norm_errors_are_the_references(kwargs, x_shape, exc, text):
  with pytest.raises(exc) as info:
    nn.GroupNorm(**kwargs).init(KEY, jnp.ones(x_shape))
  assert type(info.value) is exc
  assert str(info.value).startswith(f'GroupNorm "/": {text}')


def test_group_norm_non_int_groups_is_an_assertion():
  with pytest.raises(AssertionError, match='num_groups must be an int'):
    nn.GroupNorm(num_groups=2.0).init(KEY, X)


def test_group_norm_accepts_what_the_reference_accepts():
  x = jnp.asarray(np.random.default_rng(5).standard_normal((4, 6)), jnp.float32)
  y = nn.GroupNorm(num_groups=2).init_with_output(KEY, x[0])[0]  # 1-D: no batch axis
  np.testing.assert_allclose(y, np_gn(np.asarray(x[:1]), 2)[0], rtol=1e-4, atol=1e-4)
  a = nn.GroupNorm(num_groups=2, reduction_axes=-1).init_with_output(KEY, X)[0]
  b = nn.GroupNorm(num_groups=2, reduction_axes=(-1,)).init_with_output(KEY, X)[0]
  np.testing.assert_array_equal(a, b)


def test_instance_norm():
  inn = nn.InstanceNorm()
  variables = inn.init(KEY, X)
  x = np.asarray(X)
  m = x.mean((1, 2), keepdims=True)
  ref = (x - m) / np.sqrt(x.var((1, 2), keepdims=True) + 1e-6)
  np.testing.assert_allclose(inn.apply(variables, X), ref, rtol=1e-4, atol=1e-4)
  for axes in (0, -X.ndim, (0, 2)):
    with pytest.raises(ValueError) as info:
      nn.InstanceNorm(feature_axes=axes).init(KEY, X)
    assert str(info.value).startswith(
      'InstanceNorm "/": The channel axes cannot include the leading dimension as this is '
      'assumed to be the batch axis.')


def test_instance_norm_feature_axes_in_the_references_order():
  x = jnp.asarray(np.random.default_rng(6).standard_normal((2, 3, 4, 5)), jnp.float32)
  v = nn.InstanceNorm(feature_axes=(2, 1)).init(KEY, x)
  assert v['params']['scale'].shape == (3, 4)
