"""Embed: lookup, attend (weight tying), dtypes and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
IDS = jnp.array([[0, 3, 9], [1, 1, 2]])


def test_lookup_and_attend():
  layer = nn.Embed(num_embeddings=10, features=4)
  variables = layer.init(KEY, IDS)
  table = variables['params']['embedding']
  assert table.shape == (10, 4) and table.dtype == jnp.float32
  np.testing.assert_array_equal(layer.apply(variables, IDS), np.asarray(table)[np.asarray(IDS)])
  q = jnp.ones((2, 4))
  np.testing.assert_allclose(layer.apply(variables, q, method='attend'),
                             np.ones((2, 4)) @ np.asarray(table).T, rtol=1e-5)


def test_init_via_attend_creates_table():
  layer = nn.Embed(6, 3)
  variables = layer.init(KEY, jnp.ones((2, 3)), method='attend')
  assert variables['params']['embedding'].shape == (6, 3)
  same = layer.init(KEY, jnp.array([0]))
  np.testing.assert_array_equal(variables['params']['embedding'], same['params']['embedding'])


def test_default_init_std_is_one_over_sqrt_features():
  # variance_scaling(1, 'fan_in', 'normal', out_axis=0) on (num_embeddings, features).
  table = nn.Embed(1000, 16).init(KEY, jnp.array([0]))['params']['embedding']
  assert 0.23 < float(jnp.std(table)) < 0.27


def test_dtype_and_custom_init():
  layer = nn.Embed(5, 2, dtype=jnp.bfloat16, embedding_init=nn.initializers.ones)
  variables = layer.init(KEY, jnp.array([1]))
  assert variables['params']['embedding'].dtype == jnp.float32
  out = layer.apply(variables, jnp.array([1, 2]))
  assert out.dtype == jnp.bfloat16 and out.shape == (2, 2)


def test_single_embedding_broadcasts():
  layer = nn.Embed(1, 3, embedding_init=nn.initializers.ones)
  variables = layer.init(KEY, jnp.zeros((2, 2), jnp.int32))
  assert layer.apply(variables, jnp.zeros((2, 2), jnp.int32)).shape == (2, 2, 3)


def test_errors_are_the_references_with_the_layer_named():
  layer = nn.Embed(5, 2)
  variables = layer.init(KEY, jnp.array([1]))
  with pytest.raises(ValueError) as info:
    layer.apply(variables, jnp.array([1.0]))
  assert str(info.value).startswith(
    'Embed "/": Input type must be an integer or unsigned integer. (got float32)')
  # a query of the wrong width fails in the contraction (TypeError, as in the reference),
  # with a note naming the layer and the expected shape
  with pytest.raises(TypeError, match='dot_general requires contracting dimensions') as info:
    layer.apply(variables, jnp.ones((2, 3)), method='attend')
  assert 'Embed "/": attend expects a query of shape (..., 2), got (2, 3)' in info.value.__notes__


def test_partitioned_table():
  init = nn.meta.with_partitioning(nn.initializers.normal(1.0), ('vocab', None))
  layer = nn.Embed(5, 2, embedding_init=init)
  variables = layer.init(KEY, jnp.array([1]))
  assert variables['params']['embedding'].names == ('vocab', None)
  assert layer.apply(variables, jnp.array([1, 4])).shape == (2, 2)
