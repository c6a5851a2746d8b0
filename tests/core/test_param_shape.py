"""The apply-time param shape check, including its per-initializer cache."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen.core import apply, init

lecun = jax.nn.initializers.lecun_normal()


def f(scope, x):
  return x @ scope.param("k", lecun, (x.shape[-1], 2))


def test_cached_check_still_detects_mismatch():
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  for _ in range(3):  # repeated calls hit the cache
    apply(f)(v, jnp.ones((1, 3)))
  with pytest.raises(errors.ScopeParamShapeError):
    apply(f)(v, jnp.ones((1, 4)))


def test_unhashable_init_args_are_checked_without_cache():
  def g(scope, target):
    return scope.param("w", lambda key, t: jnp.zeros_like(t), target)

  _, v = init(g)(jax.random.PRNGKey(0), jnp.ones(3))
  apply(g)(v, jnp.ones(3))
  with pytest.raises(errors.ScopeParamShapeError):
    apply(g)(v, jnp.ones(4))
