"""The CLI's named models: shapes and parameter counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen._src.cli.models import MODELS, make_model


def count(model, shape):
  variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.ones((1, *shape)))
  return sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(variables)), variables


def test_cnn_matches_the_quickstart_table():
  total, variables = count(make_model('cnn'), (28, 28, 1))
  assert total == 824_458  # the Quickstart's "Total Parameters: 824,458"
  assert variables['params']['Dense_0']['kernel'].shape == (3136, 256)
  assert count(make_model('cnn'), (8, 8, 1))[0] == 87_178


def test_mlp_and_num_classes():
  total, variables = count(make_model('mlp', num_classes=3), (8, 8, 1))
  assert total == 64 * 128 + 128 + 128 * 3 + 3
  out = jax.eval_shape(lambda: make_model('mlp', 3).init_with_output(
    jax.random.PRNGKey(0), jnp.ones((5, 8, 8, 1)))[0])
  assert out.shape == (5, 3)


def test_unknown_model():
  with pytest.raises(ValueError, match=r"unknown model 'resnet'; choose one of \['cnn', 'mlp'\]"):
    make_model('resnet')
  assert sorted(MODELS) == ['cnn', 'mlp']
