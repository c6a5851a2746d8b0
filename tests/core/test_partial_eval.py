"""lazy_init: variables from abstract inputs; LazyInitError when values are needed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen.core import init, lazy_init

normal = jax.nn.initializers.normal()


def f(scope, x):
  w = scope.param("w", normal, (x.shape[-1], 3))
  return x @ w


def test_lazy_init_matches_init():
  x = jax.ShapeDtypeStruct((2, 4), jnp.float32)
  v = lazy_init(f)(jax.random.PRNGKey(0), x)
  _, ref = init(f)(jax.random.PRNGKey(0), jnp.ones((2, 4)))
  np.testing.assert_array_equal(v["params"]["w"], ref["params"]["w"])


def test_lazy_init_error_when_value_needed():
  def g(scope, x):
    return scope.param("k", lambda _: x)

  with pytest.raises(errors.LazyInitError):
    lazy_init(g)(jax.random.PRNGKey(0), jax.ShapeDtypeStruct((8, 4), jnp.float32))
