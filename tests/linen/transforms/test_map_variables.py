"""nn.map_variables and nn.add_metadata_axis."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


def test_map_variables_masks_at_apply_not_at_init():
  class CausalDense(nn.Module):
    features: int = 3

    def apply_mask(self, variables):
      return (jax.tree_util.tree_map(jnp.triu, variables)
              if not self.is_initializing() else variables)

    def setup(self):
      causal = nn.map_variables(nn.Dense, 'params', self.apply_mask,
                                init=self.is_initializing())
      self.dense = causal(features=self.features, use_bias=False)

    def __call__(self, x):
      return self.dense(x)

  x = jnp.ones((1, 3))
  v = CausalDense().init(jax.random.PRNGKey(0), x)
  k = v['params']['dense']['kernel']
  assert not np.allclose(k, jnp.triu(k))  # stored unmasked
  np.testing.assert_allclose(CausalDense().apply(v, x), x @ jnp.triu(k), rtol=1e-6)


def test_methods_with_function_target_raises():
  with pytest.raises(ValueError, match='methods'):
    nn.map_variables(lambda m, x: x, methods=['__call__'])


def test_add_metadata_axis():
  class Boxed(nn.Module):
    @nn.compact
    def __call__(self, x):
      w = self.param('w', nn.with_partitioning(nn.initializers.ones, ('a',)), (x.shape[-1],))
      return x * w

  cls = nn.add_metadata_axis(Boxed, variable_axes={'params': 0},
                             metadata_params={nn.PARTITION_NAME: 'stack'})
  v = cls().init(jax.random.PRNGKey(0), jnp.ones(2))
  assert v['params']['w'].names == ('stack', 'a')
