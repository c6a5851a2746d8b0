"""nn.fold_rngs and nn.named_call."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn


class Drop(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dropout(0.5, deterministic=False)(x)


def test_fold_rngs_differs_per_call():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = nn.fold_rngs(Drop)()
      return d(x), d(x)

  a, b = M().apply({}, jnp.ones(16), rngs={'dropout': jax.random.PRNGKey(0)})
  assert not np.array_equal(a, b)
  assert nn.fold_rngs(Drop).__name__ == 'Fold_rngsDrop'


def test_named_call_labels_hlo():
  class Named(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)(x)

  Named.__call__ = nn.named_call(Named.__call__)
  v = Named(name=None).init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  hlo = jax.jit(lambda v: Named().apply(v, jnp.ones((1, 2)))).lower(v).as_text(debug_info=True)
  assert 'Named' in hlo
