"""partitioning.remat: static_argnums count from the argument after the module.

A model zoo's pattern: a block with a static ``deterministic`` flag, rematerialised with the
legacy API and called inside ``jit``. Names and values come from the reference (flax 0.12.8).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen.linen import partitioning as nnp


class Block(nn.Module):
  @nn.compact
  def __call__(self, x, deterministic: bool):
    y = nn.Dense(3)(x)
    if not deterministic:  # Python control flow: needs a static argument
      y = y * 2.0
    return y


class Model(nn.Module):
  @nn.compact
  def __call__(self, x, deterministic=True):
    block = nnp.remat(Block, static_argnums=(1,))
    x = block()(x, deterministic)
    return block(name='named')(x, deterministic)


X = jnp.ones((2, 3))


def test_static_flag_under_jit_matches_the_reference():
  v = jax.jit(Model().init, static_argnums=2)(jax.random.key(0), X, False)
  assert jax.tree_util.tree_map(jnp.shape, v) == {'params': {
    'Core_remat_staticBlock_0': {'Dense_0': {'bias': (3,), 'kernel': (3, 3)}},
    'named': {'Dense_0': {'bias': (3,), 'kernel': (3, 3)}}}}
  y = jax.jit(Model().apply, static_argnums=2)(v, X, False)
  np.testing.assert_allclose(y, [[0.13310277, -2.4333267, -1.848793]] * 2, rtol=1e-5)
  grads = jax.grad(lambda p: Model().apply(p, X, False).sum())(v)
  sums = jax.tree_util.tree_map(lambda a: float(a.sum()), grads)['params']
  np.testing.assert_allclose(
    [sums['Core_remat_staticBlock_0']['Dense_0']['bias'],
     sums['Core_remat_staticBlock_0']['Dense_0']['kernel'],
     sums['named']['Dense_0']['bias'], sums['named']['Dense_0']['kernel']],
    [-22.346296310424805, -67.03889465332031, 12.0, 19.423046112060547], rtol=1e-5)


def test_the_jaxpr_holds_a_remat():
  v = Model().init(jax.random.key(0), X, True)
  jaxpr = jax.make_jaxpr(lambda v: Model().apply(v, X, True))(v)
  assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ['remat2', 'remat2']


def test_nn_remat_numbers_mean_something_else():
  # the same numbers given to nn.remat make ``x`` static and trace the flag: it fails
  class Wrong(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.remat(Block, static_argnums=(1,))()(x, False)

  with pytest.raises(jax.errors.TracerBoolConversionError):
    jax.jit(Wrong().init)(jax.random.key(0), X)


def test_positions_the_call_does_not_reach_are_ignored():
  class WithDefault(nn.Module):
    @nn.compact
    def __call__(self, x, mask=None, deterministic=True):
      y = nn.Dense(2)(x)
      return y if deterministic else 2 * y

  class Caller(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nnp.remat(WithDefault, static_argnums=(2,))()(x)  # the flag keeps its default

  v = jax.jit(Caller().init)(jax.random.key(0), X)
  assert v['params']['Core_remat_staticWithDefault_0']['Dense_0']['kernel'].shape == (3, 2)


def test_concrete_raises_when_called():
  Concrete = nnp.remat(Block, concrete=True)
  assert Concrete.__name__ == 'Core_remat_staticBlock'

  class Caller(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Concrete()(x, False)

  with pytest.raises(NotImplementedError, match='The concrete argument is deprecated'):
    Caller().init(jax.random.key(0), X)


def test_function_target_and_methods():
  def body(module, x, flag):
    return nn.Dense(2)(x) * (2.0 if flag else 1.0)

  class Caller(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nnp.remat(body, static_argnums=(1,))(self, x, True)

  v = jax.jit(Caller().init)(jax.random.key(0), X)
  assert jax.tree_util.tree_map(jnp.shape, v) == {
    'params': {'Dense_0': {'bias': (2,), 'kernel': (3, 2)}}}

  class TwoMethods(nn.Module):
    def setup(self):
      self.dense = nn.Dense(2)

    def __call__(self, x):
      return self.dense(x)

    def scaled(self, x, factor):
      return self.dense(x) * factor

  Remat = nnp.remat(TwoMethods, methods={'scaled': {'static_argnums': (1,)}})
  v = Remat().init(jax.random.key(0), X, 3.0, method='scaled')
  y = jax.jit(lambda v: Remat().apply(v, X, 3.0, method='scaled'))(v)
  np.testing.assert_allclose(y, 3.0 * TwoMethods().apply(v, X), rtol=1e-6)


def test_core_remat_static():
  from flaxen.core import init

  def f(scope, x, flag):
    w = scope.param('w', jax.nn.initializers.ones, (1, 3))
    return (x * w).sum() * (2.0 if flag else 1.0)

  rematted = nnp.core_remat_static(f, static_argnums=(1,))
  y, v = jax.jit(lambda x: init(rematted)(jax.random.key(0), x, True))(X)
  assert float(y) == 12.0 and v['params']['w'].shape == (1, 3)
  with pytest.raises(NotImplementedError):
    nnp.core_remat_static(f, concrete=True)
