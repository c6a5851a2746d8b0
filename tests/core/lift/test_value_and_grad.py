"""lift.value_and_grad differentiates the inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.core import init, lift


def f(scope, x):
  p = scope.param('p', jax.nn.initializers.constant(3.0), ())
  return (p * x).sum()


def test_value_and_grad_inputs():
  (value, (g,)), _ = init(lambda s, x: lift.value_and_grad(f, s, x))(
    jax.random.PRNGKey(0), jnp.ones(2))
  assert float(value) == 6.0
  np.testing.assert_allclose(g, 3.0)


def test_non_scalar_raises():
  with pytest.raises(TypeError, match='scalar'):
    init(lambda s, x: lift.value_and_grad(lambda s, x: x, s, x))(jax.random.PRNGKey(0), jnp.ones(2))
