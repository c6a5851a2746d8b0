"""Tests of RNNCellBase: the abstract interface and a user-defined cell under RNN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def test_base_methods_are_abstract():
  cell = nn.RNNCellBase()
  with pytest.raises(NotImplementedError):
    cell.initialize_carry(KEY, (2, 3))
  with pytest.raises(NotImplementedError):
    _ = cell.num_feature_axes


def test_builtin_cells_are_cell_bases():
  for cell in (nn.LSTMCell(2), nn.OptimizedLSTMCell(2), nn.GRUCell(2), nn.MGUCell(2),
               nn.SimpleCell(2), nn.ConvLSTMCell(2, (3,))):
    assert isinstance(cell, nn.RNNCellBase)


class CumSum(nn.RNNCellBase):
  """A user cell: running sum of the (scaled) inputs."""

  features: int

  @nn.compact
  def __call__(self, carry, x):
    scale = self.param('scale', nn.initializers.ones, (self.features,))
    carry = carry + scale[None] * x
    return carry, carry

  @nn.nowrap
  def initialize_carry(self, rng, input_shape):
    return jnp.zeros(input_shape[:-1] + (self.features,))

  @property
  def num_feature_axes(self):
    return 1


def test_user_cell_runs_under_rnn():
  x = jnp.asarray(np.random.default_rng(0).standard_normal((2, 5, 3)), jnp.float32)
  rnn = nn.RNN(CumSum(3))
  variables = rnn.init(KEY, x)
  assert jax.tree_util.tree_map(jnp.shape, variables) == {'params': {'cell': {'scale': (3,)}}}
  np.testing.assert_allclose(np.asarray(rnn.apply(variables, x)), np.cumsum(np.asarray(x), 1),
                             rtol=1e-6, atol=1e-6)


def test_rnn_over_a_module_without_the_interface_fails_like_the_reference():
  class NotACell(nn.Module):
    @nn.compact
    def __call__(self, carry, x):
      return carry, x

  with pytest.raises(AttributeError,
                     match='"NotACell" object has no attribute "num_feature_axes"'):
    nn.RNN(NotACell()).init(KEY, jnp.ones((1, 2, 3)))


def test_carry_parts_split_the_key_once_per_array():
  cell = nn.LSTMCell(3, carry_init=nn.initializers.normal(1.0))
  c, h = cell.initialize_carry(KEY, (2, 5))
  k1, k2 = jax.random.split(KEY)
  np.testing.assert_array_equal(c, nn.initializers.normal(1.0)(k1, (2, 3)))
  np.testing.assert_array_equal(h, nn.initializers.normal(1.0)(k2, (2, 3)))
  single = nn.GRUCell(3, carry_init=nn.initializers.normal(1.0)).initialize_carry(KEY, (2, 5))
  np.testing.assert_array_equal(single, nn.initializers.normal(1.0)(KEY, (2, 3)))
