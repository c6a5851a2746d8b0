"""The bridge: targets, naming, errors, state hand-over, scopes of fields and arguments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(1, name='out')(nn.relu(nn.Dense(4, name='hidden')(x)))


def test_instance_target_raises():
  with pytest.raises(errors.TransformTargetError):
    nn.vmap(nn.Dense(3))
  with pytest.raises(errors.TransformTargetError):
    nn.jit(nn.Dense(3))


def test_transformed_class_name_and_subclass():
  cls = nn.vmap(MLP, variable_axes={'params': 0}, split_rngs={'params': True})
  assert cls.__name__ == 'VmapMLP' and issubclass(cls, MLP)
  assert nn.remat(MLP).__name__ == nn.checkpoint(MLP).__name__ == 'CheckpointMLP'


def test_raw_jax_transform_over_bound_module_raises():
  class Naive(nn.Module):
    @nn.compact
    def __call__(self, xs):
      mlp = MLP()
      return jax.vmap(lambda x: mlp(x))(xs)

  with pytest.raises(errors.JaxTransformError):
    Naive().init(jax.random.PRNGKey(0), jnp.ones((3, 4)))


def test_returning_modules_or_variables_raises():
  class ReturnsModule(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)

  class ReturnsVariable(nn.Module):
    @nn.compact
    def __call__(self, x):
      return self.variable('state', 'v', lambda: 1)

  for t in (nn.jit, nn.remat):
    with pytest.raises(errors.TransformedMethodReturnValueError, match='__call__'):
      t(ReturnsModule)().init(jax.random.PRNGKey(0), jnp.ones(2))
  with pytest.raises(errors.TransformedMethodReturnValueError):
    nn.remat(ReturnsVariable)().init(jax.random.PRNGKey(0), jnp.ones(2))


def test_auto_names_continue_across_transform():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = nn.Dense(2)(x)
      x = nn.remat(lambda mdl, x: nn.Dense(2)(x))(self, x)
      return nn.Dense(2)(x)

  v = M().init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert list(v['params']) == ['Dense_0', 'Dense_1', 'Dense_2']


def test_setup_submodules_are_rebound_inside():
  class WithSetup(nn.Module):
    def setup(self):
      self.dense = nn.Dense(3)

    def __call__(self, x):
      return self.dense(x)

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.vmap(WithSetup, variable_axes={'params': 0}, split_rngs={'params': True})()(x)

  v = Outer().init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
  assert v['params']['VmapWithSetup_0']['dense']['kernel'].shape == (2, 4, 3)


def test_field_submodule_shared_from_parent_is_lifted():
  class Tower(nn.Module):
    dense: nn.Module

    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)(self.dense(x))

  class Model(nn.Module):
    def setup(self):
      self.shared = nn.Dense(3)
      self.tower = nn.remat(Tower)(self.shared)

    def __call__(self, x):
      return self.tower(x) + self.shared(x).sum()

  x = jnp.ones((1, 4))
  v = Model().init(jax.random.PRNGKey(0), x)
  assert set(v['params']) == {'shared', 'tower'}
  assert 'shared' not in v['params']['tower']
  y = Model().apply(v, x)
  ref = x @ v['params']['shared']['kernel'] + v['params']['shared']['bias'][None]
  t = v['params']['tower']['Dense_0']
  np.testing.assert_allclose(y, ref @ t['kernel'] + t['bias'][None] + ref.sum(), rtol=1e-5)


def test_module_passed_as_argument():
  def body(mdl, other, x):
    return mdl(x) + other(x)

  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      a, b = nn.Dense(2, name='a'), nn.Dense(2, name='b')
      return nn.remat(body)(a, b, x)

  v = M().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert set(v['params']) == {'a', 'b'}


def test_methods_argument():
  class TwoMethods(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2, name='d')(x)

    def other(self, x):
      return self(x) * 2

  cls = nn.jit(TwoMethods, methods=['__call__', 'other'])
  v = cls().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  y = cls().apply(v, jnp.ones((1, 3)), method='other')
  np.testing.assert_allclose(y, 2 * cls().apply(v, jnp.ones((1, 3))), rtol=1e-6)


def test_calling_unbound_transformed_module_raises():
  with pytest.raises(errors.CallCompactUnboundModuleError):
    nn.remat(nn.Dense)(2)(jnp.ones((1, 2)))
