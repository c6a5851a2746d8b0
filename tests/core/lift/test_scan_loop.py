"""axes_scan: axes moved to the front and back, broadcast outputs computed once."""

import jax.numpy as jnp
import numpy as np

from flaxen._src.core.lift.axes import broadcast
from flaxen._src.core.lift.scan_loop import axes_scan


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
