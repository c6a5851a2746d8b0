"""flaxen._src.linen.module.name_scope: ``nn.compact_name_scope`` methods get child scopes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.key(0)
X = jnp.ones((1, 2))


class Coder(nn.Module):
  width: int = 3

  @nn.compact_name_scope
  def encode(self, x):
    return nn.Dense(self.width)(x)  # ``self`` is the outer module: its fields are visible

  @nn.compact_name_scope
  def decode(self, x):
    return nn.Dense(2, name='out')(nn.relu(x))

  def __call__(self, x):
    return self.decode(self.encode(x))


def _shapes(tree):
  return jax.tree_util.tree_map(jnp.shape, tree)


def test_scopes_are_named_after_methods():
  v = Coder().init(KEY, X)
  assert list(v['params']) == ['encode', 'decode']
  assert _shapes(v['params']) == {
    'encode': {'Dense_0': {'kernel': (2, 3), 'bias': (3,)}},
    'decode': {'out': {'kernel': (3, 2), 'bias': (2,)}},
  }


def test_nested_under_a_parent_path():
  class Parent(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Coder(width=4, name='coder')(x)

  v = Parent().init(KEY, X)
  assert list(v['params']['coder']) == ['encode', 'decode']
  assert v['params']['coder']['encode']['Dense_0']['kernel'].shape == (2, 4)


def test_repeated_calls_reuse_the_same_submodules():
  class Twice(Coder):
    def __call__(self, x):
      return self.encode(x) + self.encode(x)

  v = Twice().init(KEY, X)
  assert list(v['params']) == ['encode']
  assert list(v['params']['encode']) == ['Dense_0']
  y = Twice().apply(v, X)
  np.testing.assert_allclose(y, 2 * Coder().apply(v, X, method='encode'), rtol=1e-6)


def test_apply_with_method_and_matching_values():
  v = Coder().init(KEY, X)
  h = Coder().apply(v, X, method='encode')
  kernel, bias = v['params']['encode']['Dense_0']['kernel'], v['params']['encode']['Dense_0']['bias']
  np.testing.assert_allclose(h, X @ kernel + bias[None], rtol=1e-6)
  np.testing.assert_allclose(Coder().apply(v, X), Coder().apply(v, X, method=Coder.__call__))


def test_name_scope_method_path_in_error_note():
  class Broken(nn.Module):
    @nn.compact_name_scope
    def block(self, x):
      raise RuntimeError('bad block')

    def __call__(self, x):
      return self.block(x)

  with pytest.raises(RuntimeError, match='bad block') as info:
    Broken().init(KEY, X)
  notes = [n for n in info.value.__notes__ if n.startswith('in ')]
  assert len(notes) == 1 and notes[0].startswith('in /block (')


def test_misuse_is_reported():
  with pytest.raises(ValueError, match="compact_name_scope method 'encode' on an unbound Coder"):
    Coder().encode(X)
  with pytest.raises(ValueError, match='must be used on Module methods'):
    nn.compact_name_scope(lambda self, x: x)(object(), 1)


def test_wrapper_metadata():
  wrapper = Coder.__dict__['encode']
  assert wrapper.__name__ == 'encode' and wrapper.compact_name_scope is True
  assert wrapper.nowrap is True  # not wrapped again as an ordinary method
  assert nn.compact_name_scope.__module__ == 'flaxen.linen'


def test_name_scope_children_hold_their_module_weakly():
  # the module holds its name-scope children; they must not hold it strongly back, or the
  # bound tree (scopes, traced values) would only die in the cycle collector
  import gc
  import weakref

  class Two(nn.Module):
    @nn.compact_name_scope
    def up(self, x):
      return nn.Dense(2)(x)

    def __call__(self, x):
      return self.up(x)

  variables = Two().init(jax.random.key(0), jnp.ones((1, 3)))
  gc.disable()
  try:
    bound = Two().bind(variables)
    bound(jnp.ones((1, 3)))
    ref = weakref.ref(bound)
    del bound
    assert ref() is None
  finally:
    gc.enable()
