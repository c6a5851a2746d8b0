"""nn.cond / nn.switch / nn.while_loop (the docs' examples)."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn


class CondExample(nn.Module):
  @nn.compact
  def __call__(self, x, pred):
    self.variable('state', 'true_count', lambda: 0)
    self.variable('state', 'false_count', lambda: 0)

    def true_fn(mdl, x):
      mdl.variable('state', 'true_count').value += 1
      return nn.Dense(2, name='dense')(x)

    def false_fn(mdl, x):
      mdl.variable('state', 'false_count').value += 1
      return -nn.Dense(2, name='dense')(x)

    return nn.cond(pred, true_fn, false_fn, self, x)


def test_cond_counts_and_branch():
  x = jnp.ones((1, 3))
  v = CondExample().init(jax.random.PRNGKey(0), x, True)
  # init took the true branch (both branches are traced; the selected one's state wins)
  assert int(v['state']['true_count']) == 1 and int(v['state']['false_count']) == 0
  y, s = CondExample().apply(v, x, False, mutable=['state'])
  assert int(s['state']['false_count']) == 1 and int(s['state']['true_count']) == 1
  y2, _ = CondExample().apply(v, x, True, mutable=['state'])
  np.testing.assert_allclose(y, -y2, rtol=1e-6)


class MultiHeadSwitchExample(nn.Module):
  def setup(self) -> None:
    self.heads = [
      nn.Sequential([nn.Dense(10), nn.Dense(7), nn.Dense(5)]),
      nn.Sequential([nn.Dense(11), nn.Dense(5)]),
      nn.Dense(5),
    ]

  @nn.compact
  def __call__(self, x, index):
    def head_fn(i):
      return lambda mdl, x: mdl.heads[i](x)

    branches = [head_fn(i) for i in range(len(self.heads))]
    if self.is_mutable_collection('params'):
      for branch in branches:
        _ = branch(self, x)
    return nn.switch(index, branches, self, x)


def test_switch_with_per_branch_params():
  x = jnp.ones((1, 3))
  v = MultiHeadSwitchExample().init(jax.random.PRNGKey(0), x, 1)
  assert set(v['params']) == {'heads_0', 'heads_1', 'heads_2'}
  apply = jax.jit(MultiHeadSwitchExample().apply)
  outs = [apply(v, x, jnp.int32(i)) for i in range(3)]
  assert not np.allclose(outs[0], outs[1])
  d = v['params']['heads_2']
  np.testing.assert_allclose(outs[2], x @ d['kernel'] + d['bias'][None], rtol=1e-5)


class WhileLoopExample(nn.Module):
  @nn.compact
  def __call__(self, x):
    def cond_fn(mdl, c):
      return mdl.variables['state']['acc'] < 10

    def body_fn(mdl, c):
      acc = mdl.variable('state', 'acc', lambda: jnp.array(0))
      acc.value += 1
      return nn.Dense(c.shape[-1])(c)

    if self.is_mutable_collection('params'):
      return body_fn(self, x)
    return nn.while_loop(cond_fn, body_fn, self, x, carry_variables='state')


def test_while_loop_docs_example():
  x = jnp.ones((2, 2))
  v = WhileLoopExample().init(jax.random.PRNGKey(0), x)
  result, state = WhileLoopExample().apply(v, x, mutable=['state'])
  assert int(state['state']['acc']) == 10
  assert result.shape == (2, 2)


def test_while_loop_split_rngs_keyed_by_a_string_and_a_denylist():
  # a filter dict mixing a string and a DenyList: JAX sorts its keys when flattening
  class Foo(nn.Module):
    def setup(self):
      pass

  def body(mdl, c):
    return c + jax.random.uniform(mdl.make_rng('random'))

  bound = Foo().bind({}, rngs={'random': jax.random.PRNGKey(0)})
  out = nn.while_loop(lambda mdl, c: c < 10, body, bound, jnp.zeros(()),
                      split_rngs={'params': False, nn.DenyList(('params',)): True})
  assert float(out) >= 10.0
  counted = nn.while_loop(lambda mdl, c: c < 10, lambda mdl, c: c + 1, bound, jnp.zeros(()),
                          split_rngs={'params': False, nn.DenyList(('params',)): True})
  np.testing.assert_array_equal(counted, 10.0)
