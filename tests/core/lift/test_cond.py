"""lift.cond / lift.switch: all branches traced, shared counters, sorted output."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import apply, init, lift


def branch(sign):
  def fn(scope, x):
    k = scope.param('k', jax.nn.initializers.normal(1.0), (x.shape[-1],))
    return sign * x * k

  return fn


def test_cond_selects_branch():
  run = lambda s, x, p: lift.cond(p, branch(1.0), branch(-1.0), s, x)
  y, v = init(run)(jax.random.PRNGKey(0), jnp.ones(2), True)
  k = v['params']['k']
  np.testing.assert_allclose(apply(run)(v, jnp.ones(2), False), -k)
  np.testing.assert_allclose(apply(run)(v, jnp.ones(2), True), k)


def test_switch_clamps_index():
  run = lambda s, x, i: lift.switch(i, [branch(1.0), branch(2.0), branch(3.0)], s, x)
  _, v = init(run)(jax.random.PRNGKey(0), jnp.ones(2), 0)
  k = v['params']['k']
  np.testing.assert_allclose(apply(run)(v, jnp.ones(2), 1), 2.0 * k)
  np.testing.assert_allclose(apply(run)(v, jnp.ones(2), 7), 3.0 * k)
