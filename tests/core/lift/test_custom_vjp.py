"""lift.custom_vjp: a user backward pass for variables."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.core import apply, init, lift


def scale(scope, x):
  p = scope.param('s', jax.nn.initializers.constant(2.0), ())
  return p * x


def fwd(scope, x):
  return lift.vjp(scale, scope, x)


def bwd(vjp_fn, ct):
  vars_ct, x_ct = vjp_fn(ct)
  return jax.tree_util.tree_map(lambda t: t * 10.0, vars_ct), x_ct


def test_custom_vjp_scales_variable_cotangent():
  f = lift.custom_vjp(scale, fwd, bwd)
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones(3))
  g = jax.grad(lambda v: apply(f)(v, jnp.ones(3)).sum())(v)
  np.testing.assert_allclose(g['params']['s'], 30.0)
  np.testing.assert_allclose(apply(f)(v, jnp.ones(3)), 2.0)
