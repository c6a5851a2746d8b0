"""nn.remat / nn.checkpoint: a remat primitive in the jaxpr, same values and gradients."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x, train: bool = True):
    x = nn.relu(nn.Dense(8)(x))
    return nn.Dropout(0.5, deterministic=not train)(nn.Dense(2)(x))


def test_remat_same_params_outputs_and_grads():
  x = jnp.ones((2, 3))
  v = MLP().init(jax.random.PRNGKey(0), x, False)
  remat = nn.remat(MLP, static_argnums=(2,))
  vr = remat().init(jax.random.PRNGKey(0), x, False)
  assert jax.tree_util.tree_structure(v) == jax.tree_util.tree_structure(vr)
  for a, b in zip(jax.tree_util.tree_leaves(v), jax.tree_util.tree_leaves(vr)):
    np.testing.assert_array_equal(a, b)
  loss = lambda m: lambda v: m.apply(v, x, False).sum()
  np.testing.assert_allclose(jax.grad(loss(remat()))(v)['params']['Dense_0']['kernel'],
                             jax.grad(loss(MLP()))(v)['params']['Dense_0']['kernel'], rtol=1e-6)
  jaxpr = str(jax.make_jaxpr(jax.grad(loss(remat())))(v))
  assert 'remat' in jaxpr or 'checkpoint' in jaxpr
  assert 'remat' not in str(jax.make_jaxpr(jax.grad(loss(MLP())))(v))


def test_policy_is_passed():
  m = nn.checkpoint(nn.Dense, policy=jax.checkpoint_policies.nothing_saveable)(2)
  v = m.init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  jaxpr = str(jax.make_jaxpr(lambda v: m.apply(v, jnp.ones((1, 2))))(v))
  assert 'nothing_saveable' in jaxpr
