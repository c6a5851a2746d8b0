"""axes_scan: axes moved to the front and back, broadcast outputs computed once."""

import jax.numpy as jnp
import numpy as np

from flaxen._src.core.lift.axes import broadcast
from flaxen.core.axes_scan import scan as axes_scan


def test_axes_and_broadcast_outputs():
  calls = []

  def fn(bcast, c, x):
    calls.append(1)
    return bcast + 1.0, c + x.sum(), (x * 2.0, jnp.float32(7.0))

  scan_fn = axes_scan(fn, in_axes=1, out_axes=(1, broadcast), length=3)
  b, c, (ys, const) = scan_fn(jnp.float32(1.0), jnp.float32(0.0), jnp.ones((2, 3)))
  assert float(b) == 2.0 and float(c) == 6.0 and float(const) == 7.0
  assert ys.shape == (2, 3)
  np.testing.assert_allclose(ys, 2.0)
  assert len(calls) == 2  # the constant pass and the scan body


def test_no_stray_ops_compared_to_hand_written_scan():
  import collections

  import jax

  from flaxen.core import apply, init, lift

  def body(scope, c, x):
    k = scope.param('k', jax.nn.initializers.ones, (2, 2))
    return jnp.tanh(c @ k) * jnp.sqrt(4.0) + x, ()

  f = lift.scan(body, variable_broadcast='params', split_rngs={'params': False})
  xs = jnp.ones((3, 2))
  _, v = init(f)(jax.random.PRNGKey(0), jnp.zeros(2), xs)

  def pure(k, c, xs):
    return jax.lax.scan(lambda c, x: (jnp.tanh(c @ k) * jnp.sqrt(4.0) + x, ()), c, xs)

  def prims(closed):
    counts = collections.Counter()

    def walk(j):
      for e in j.eqns:
        counts[e.primitive.name] += 1
        for p in e.params.values():
          inner = getattr(p, 'jaxpr', None)
          if inner is not None:
            walk(getattr(inner, 'jaxpr', inner))

    walk(closed.jaxpr)
    return counts

  ours = jax.make_jaxpr(lambda v: apply(f)(v, jnp.zeros(2), xs))(v)
  theirs = jax.make_jaxpr(lambda k: pure(k, jnp.zeros(2), xs))(v['params']['k'])
  assert prims(ours) == prims(theirs)
