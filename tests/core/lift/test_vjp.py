"""lift.vjp: cotangents of variables and inputs."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import init, lift


def scale(scope, x):
  p = scope.param('s', jax.nn.initializers.ones, ())
  return p * x


def test_vjp_gives_variable_and_input_cotangents():
  def outer(scope, x):
    s = scope.push('scale')
    scale(s, x)  # create the param
    y, bwd = lift.vjp(scale, s, x)
    return y, bwd(jnp.ones_like(y))

  (y, (vars_ct, x_ct)), v = init(outer)(jax.random.PRNGKey(0), jnp.arange(3.0))
  np.testing.assert_allclose(vars_ct['params']['s'], 3.0)
  np.testing.assert_allclose(x_ct, 1.0)


def test_vjp_has_aux():
  def outer(scope, x):
    scale(scope, x)
    y, bwd, aux = lift.vjp(lambda s, x: (scale(s, x), 'aux'), scope, x, has_aux=True)
    return aux

  out, _ = init(outer)(jax.random.PRNGKey(0), jnp.ones(2))
  assert out == 'aux'
