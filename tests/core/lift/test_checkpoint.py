"""lift.checkpoint (remat)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.core import apply, init, lift


def dense(scope, x):
  k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], x.shape[-1]))
  return jnp.tanh(x @ k)


def test_remat_has_checkpoint_primitive_and_same_values():
  f = lift.checkpoint(dense)
  y, v = init(f)(jax.random.PRNGKey(0), jnp.ones((2, 3)))
  _, v_plain = init(dense)(jax.random.PRNGKey(0), jnp.ones((2, 3)))
  np.testing.assert_array_equal(v['params']['kernel'], v_plain['params']['kernel'])
  jaxpr = str(jax.make_jaxpr(lambda v: apply(f)(v, jnp.ones((2, 3))))(v))
  assert 'remat' in jaxpr or 'checkpoint' in jaxpr
  g = jax.grad(lambda v: apply(f)(v, jnp.ones((2, 3))).sum())(v)
  g0 = jax.grad(lambda v: apply(dense)(v, jnp.ones((2, 3))).sum())(v)
  np.testing.assert_allclose(g['params']['kernel'], g0['params']['kernel'], rtol=1e-6)


def test_concrete_is_rejected():
  with pytest.raises(ValueError, match='concrete'):
    lift.checkpoint(dense, concrete=True)
