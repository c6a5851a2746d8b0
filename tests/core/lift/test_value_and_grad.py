"""lift.value_and_grad differentiates the inputs."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import init, lift


def f(scope, x):
  p = scope.param('p', jax.nn.initializers.constant(3.0), ())
  return (p * x).sum()


def test_value_and_grad_inputs():
  (value, (g,)), _ = init(lambda s, x: lift.value_and_grad(f, s, x))(
    jax.random.PRNGKey(0), jnp.ones(2))
  assert float(value) == 6.0
  np.testing.assert_allclose(g, 3.0)


def test_has_aux_returns_value_aux_grads():
  def g(scope, x):
    return f(scope, x), 'aux'

  (value, aux, (grad,)), _ = init(lambda s, x: lift.value_and_grad(g, s, x, has_aux=True))(
    jax.random.PRNGKey(0), jnp.ones(2))
  assert float(value) == 6.0 and aux == 'aux'
  np.testing.assert_allclose(grad, 3.0)


def test_non_scalar_output_uses_a_cotangent_of_ones():
  (value, (grad,)), _ = init(lambda s, x: lift.value_and_grad(lambda s, x: x * 2, s, x))(
    jax.random.PRNGKey(0), jnp.ones(2))
  np.testing.assert_allclose(value, 2.0)
  np.testing.assert_allclose(grad, 2.0)
