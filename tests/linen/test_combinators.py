"""Sequential (chaining, naming, tuple/dict passing, errors) and BatchApply."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def test_sequential_names_and_values():
  model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(2)])
  x = jnp.ones((3, 5))
  variables = model.init(KEY, x)
  assert list(variables['params']) == ['layers_0', 'layers_2']
  p = jax.tree_util.tree_map(np.asarray, variables['params'])
  h = np.maximum(np.asarray(x) @ p['layers_0']['kernel'] + p['layers_0']['bias'], 0)
  np.testing.assert_allclose(model.apply(variables, x),
                             h @ p['layers_2']['kernel'] + p['layers_2']['bias'],
                             rtol=1e-5, atol=1e-6)


def test_sequential_tuple_and_dict_outputs():
  model = nn.Sequential([
    lambda x: (x, 2 * x),
    lambda a, b: {'a': a, 'b': b},
    lambda a, b: a + b,
  ])
  np.testing.assert_allclose(model.apply({}, jnp.ones(2)), 3 * np.ones(2))


def test_sequential_passes_kwargs_to_first_layer():
  model = nn.Sequential([nn.Dropout(0.5), nn.Dense(2)])
  variables = model.init(KEY, jnp.ones((1, 3)), deterministic=True)
  assert list(variables['params']) == ['layers_1']


def test_empty_sequential_raises():
  with pytest.raises(ValueError, match='Sequential.*empty'):
    nn.Sequential([]).init(KEY, jnp.ones(2))


def test_layers_must_be_a_sequence():
  with pytest.raises(ValueError, match='sequence'):
    nn.Sequential(nn.Dense(2))


def test_batch_apply_merges_and_splits():
  calls = []

  def f(x, w):
    calls.append(x.shape)
    return x @ w

  x = jnp.ones((2, 3, 4))
  w = jnp.ones((4,))
  out = nn.BatchApply(f)(x, w)
  assert calls == [(6, 4)] and out.shape == (2, 3)
  with pytest.raises(ValueError, match='leading 2 dims'):
    nn.BatchApply(f)(x, jnp.ones((4, 5)))
  with pytest.raises(ValueError, match='BatchApply'):
    nn.BatchApply(f, num_dims=3)(jnp.ones((2, 3)), w)


def test_batch_apply_with_module():
  dense = nn.Dense(3)
  x = jnp.ones((2, 5, 4))
  variables = dense.init(KEY, x[0])
  y = nn.BatchApply(lambda v: dense.apply(variables, v))(x)
  np.testing.assert_allclose(y, dense.apply(variables, x), rtol=1e-6)
