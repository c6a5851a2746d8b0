"""Whole-model checks of the lifted transforms (issue 5's design tests).

* a scan-over-layers Transformer equals its unrolled twin (same parameters up
  to stacking, same outputs and gradients);
* a vmap ensemble matches applying each member on its own;
* ``nn.remat`` adds a checkpoint primitive to the jaxpr and changes nothing else;
* an ``nn.jit``'d module is traced once across calls.
"""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn

LAYERS = 2


class Block(nn.Module):
  dim: int = 4
  heads: int = 2

  @nn.compact
  def __call__(self, x):
    h = nn.LayerNorm()(x)
    h = nn.MultiHeadDotProductAttention(num_heads=self.heads, qkv_features=self.dim)(h, h)
    x = x + h
    h = nn.Dense(2 * self.dim)(nn.LayerNorm()(x))
    return x + nn.Dense(self.dim)(nn.gelu(h))


class ScanBlock(nn.Module):
  @nn.compact
  def __call__(self, x, _):
    return Block()(x), None


class ScannedTransformer(nn.Module):
  @nn.compact
  def __call__(self, x):
    stack = nn.scan(ScanBlock, variable_axes={'params': 0}, split_rngs={'params': True},
                    length=LAYERS)
    x, _ = stack(name='layers')(x, None)
    return nn.Dense(4, name='head')(x)


class UnrolledTransformer(nn.Module):
  @nn.compact
  def __call__(self, x):
    for i in range(LAYERS):
      x = Block(name=f'layer_{i}')(x)
    return nn.Dense(4, name='head')(x)


def _unstack(scanned):
  layers = scanned['layers']['Block_0']
  out = {f'layer_{i}': jax.tree_util.tree_map(lambda a, i=i: a[i], layers) for i in range(LAYERS)}
  out['head'] = scanned['head']
  return out


def test_scan_over_layers_equals_unrolled():
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 4))
  scanned = jax.jit(ScannedTransformer().init)(jax.random.PRNGKey(0), x)['params']
  unrolled = jax.eval_shape(UnrolledTransformer().init, jax.random.PRNGKey(0), x)['params']
  as_unrolled = _unstack(scanned)
  # same parameters up to stacking: identical structure and shapes
  assert jax.tree_util.tree_structure(as_unrolled) == jax.tree_util.tree_structure(unrolled)
  assert jax.tree_util.tree_map(jnp.shape, as_unrolled) == jax.tree_util.tree_map(
    jnp.shape, unrolled)

  def outputs_and_grads(model, params):
    def loss(p):
      y = model.apply({'params': p}, x)
      return (y ** 2).sum(), y

    (_, y), g = jax.jit(jax.value_and_grad(loss, has_aux=True))(params)
    return y, g

  y_scan, g_scan = outputs_and_grads(ScannedTransformer(), scanned)
  y_unrolled, g_unr = outputs_and_grads(UnrolledTransformer(), as_unrolled)
  np.testing.assert_allclose(y_scan, y_unrolled, rtol=1e-5, atol=1e-5)
  for a, b in zip(jax.tree_util.tree_leaves(_unstack(g_scan)), jax.tree_util.tree_leaves(g_unr)):
    # scan and unrolled code reduce in different orders: allow a few float32 ulps of the
    # largest gradient entries
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=5e-5)


class Member(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(2)(nn.tanh(nn.Dense(6)(x)))


class Ensemble(nn.Module):
  n: int = 4

  @nn.compact
  def __call__(self, x):
    return nn.vmap(Member, variable_axes={'params': 0}, split_rngs={'params': True},
                   in_axes=None, axis_size=self.n)(name='members')(x)


def test_vmap_ensemble_matches_members():
  x = jax.random.normal(jax.random.PRNGKey(1), (3, 5))
  v = jax.jit(Ensemble().init)(jax.random.PRNGKey(0), x)
  ys = jax.jit(Ensemble().apply)(v, x)
  assert ys.shape == (4, 3, 2)
  for i in range(4):
    member = jax.tree_util.tree_map(lambda a, i=i: a[i], v['params']['members'])
    np.testing.assert_allclose(ys[i], jax.jit(Member().apply)({'params': member}, x),
                               rtol=1e-5, atol=1e-6)
  k = v['params']['members']['Dense_0']['kernel']
  assert not np.allclose(k[0], k[1])  # members are initialized independently


def test_remat_changes_jaxpr_not_results():
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 4))
  v = jax.jit(UnrolledTransformer().init)(jax.random.PRNGKey(0), x)

  class RematTransformer(nn.Module):
    @nn.compact
    def __call__(self, x):
      for i in range(LAYERS):
        x = nn.remat(Block)(name=f'layer_{i}')(x)
      return nn.Dense(4, name='head')(x)

  loss = lambda m: (lambda p: m.apply({'params': p}, x).sum())
  g_plain = jax.jit(jax.grad(loss(UnrolledTransformer())))(v['params'])
  g_remat = jax.jit(jax.grad(loss(RematTransformer())))(v['params'])
  for a, b in zip(jax.tree_util.tree_leaves(g_plain), jax.tree_util.tree_leaves(g_remat)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)  # recomputation may fuse differently
  assert 'remat' in str(jax.make_jaxpr(jax.grad(loss(RematTransformer())))(v['params']))
  assert 'remat' not in str(jax.make_jaxpr(jax.grad(loss(UnrolledTransformer())))(v['params']))


def test_jit_module_traced_once():
  traces = []

  class Traced(nn.Module):
    @nn.compact
    def __call__(self, x):
      traces.append(1)
      return Block()(x)

  model = nn.jit(Traced)()
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 4))
  v = model.init(jax.random.PRNGKey(0), x)
  traces.clear()
  outs = [model.apply(v, x + i) for i in range(5)]
  assert len(traces) == 1
  np.testing.assert_allclose(outs[0], Traced().apply(v, x), rtol=1e-5, atol=1e-6)
