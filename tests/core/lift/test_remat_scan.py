"""lift.remat_scan: one stacked axis per level, same result as the unrolled loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.core import apply, init, lift


def dense(scope, x):
  k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], x.shape[-1]))
  return jnp.tanh(x @ k)


def test_remat_scan_stacks_per_level():
  f = lift.remat_scan(dense, lengths=(2, 3))
  y, v = init(f)(jax.random.PRNGKey(0), jnp.ones((1, 4)))
  assert v['params']['kernel'].shape == (2, 3, 4, 4)
  ks = v['params']['kernel'].reshape(6, 4, 4)
  x = jnp.ones((1, 4))
  for k in ks:
    x = jnp.tanh(x @ k)
  np.testing.assert_allclose(apply(f)(v, jnp.ones((1, 4))), x, rtol=1e-5)
  with pytest.raises(ValueError, match='lengths'):
    lift.remat_scan(dense, lengths=())
