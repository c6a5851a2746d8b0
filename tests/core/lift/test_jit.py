"""lift.jit: compiled once, rngs forked per call, counters replayed on cached calls."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.core.rng import LazyRng
from flaxen.core import apply, init, lift


def test_traced_once_and_forks_rngs():
  traces = []

  def fn(scope, x):
    traces.append(1)
    k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], 2))
    return x @ k, scope.make_rng('noise')

  jitted = lift.jit(fn)

  def outer(scope, x):
    return jitted(scope.push('j'), x)

  rngs = {'params': jax.random.PRNGKey(0), 'noise': jax.random.PRNGKey(1)}
  (y, noise), v = init(outer)(rngs, jnp.ones((1, 3)))
  base = LazyRng(jax.random.PRNGKey(0), ('j', 1)).as_jax_rng()
  expected = jax.nn.initializers.lecun_normal()(LazyRng(base, (2,)).as_jax_rng(), (3, 2))
  np.testing.assert_array_equal(v['params']['j']['kernel'], expected)
  n = len(traces)
  for _ in range(3):
    apply(outer)(v, jnp.ones((1, 3)), rngs={'noise': jax.random.PRNGKey(1)})
  assert len(traces) == n + 1  # one more trace for apply (other mutability), then cached


def test_static_argnums():
  def fn(scope, x, flag):
    return x * 2 if flag else x

  jitted = lift.jit(fn, static_argnums=(2,))
  out, _ = init(lambda s, x: (jitted(s, x, True), jitted(s, x, False)))(
    jax.random.PRNGKey(0), jnp.ones(2))
  np.testing.assert_allclose(out[0], 2.0)
  np.testing.assert_allclose(out[1], 1.0)
