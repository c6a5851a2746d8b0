"""lift.fold_rngs: a new base key per call, drawn with make_rng."""

import jax
import numpy as np

from flaxen._src.core.rng import LazyRng
from flaxen.core import init, lift


def test_each_call_gets_forked_keys():
  f = lift.fold_rngs(lambda s: s.make_rng('dropout'))

  def outer(scope):
    child = scope.push('c')
    return f(child), f(child)

  (a, b), _ = init(outer)({'params': jax.random.PRNGKey(0), 'dropout': jax.random.PRNGKey(1)})
  k1 = LazyRng(jax.random.PRNGKey(1), ('c', 1)).as_jax_rng()
  np.testing.assert_array_equal(a, LazyRng(k1, (2,)).as_jax_rng())
  assert not np.array_equal(a, b)
