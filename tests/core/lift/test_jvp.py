"""lift.jvp with variable tangents."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import init, lift


def scale(scope, x):
  p = scope.param('s', jax.nn.initializers.constant(2.0), ())
  return p * x


def test_jvp_with_variable_tangents():
  def outer(scope, x):
    scale(scope, x)
    return lift.jvp(scale, scope, (x,), (jnp.ones_like(x),),
                    {'params': {'s': jnp.ones(())}})

  (y, t), _ = init(outer)(jax.random.PRNGKey(0), jnp.arange(3.0))
  np.testing.assert_allclose(y, 2.0 * jnp.arange(3.0))
  np.testing.assert_allclose(t, 2.0 + jnp.arange(3.0))  # d(p*x) = x*dp + p*dx
