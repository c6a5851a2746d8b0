"""lift.map_variables and swap_collection."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import apply, init, lift


def dense(scope, x):
  k = scope.param('kernel', jax.nn.initializers.normal(1.0), (x.shape[-1], x.shape[-1]))
  return x @ k


def test_trans_in_masks_kernel_at_apply():
  mask = lambda cols: jax.tree_util.tree_map(jnp.triu, cols)
  f = lift.map_variables(dense, 'params', mask, init=False)
  _, v = init(lift.map_variables(dense, 'params', init=True))(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  x = jnp.ones((1, 3))
  np.testing.assert_allclose(apply(f)(v, x), x @ jnp.triu(v['params']['kernel']), rtol=1e-6)


def test_swap_collection():
  def fn(scope):
    return scope.get_variable('b', 'x')

  out = apply(lift.swap_collection(fn, 'a', 'b'))({'a': {'x': 1.0}, 'b': {'x': 2.0}})
  assert out == 1.0
