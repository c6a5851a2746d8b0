"""Bad-input errors of the recurrent cells name the cell's path and the expected shapes."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn


class Model(nn.Module):
  @nn.compact
  def __call__(self, carry, x):
    return nn.GRUCell(features=3, name='gru')(carry, x)


def test_feature_mismatch_names_path_and_expected_size():
  with pytest.raises(ValueError, match=r'GRUCell.*/gru.*features=3.*\(2, 5\)'):
    Model().init(jax.random.PRNGKey(0), jnp.zeros((2, 5)), jnp.ones((2, 4)))


def test_batch_mismatch_is_also_an_assertion_error():
  with pytest.raises(AssertionError, match='batch axes'):
    Model().init(jax.random.PRNGKey(0), jnp.zeros((1, 3)), jnp.ones((2, 4)))


def test_rank_too_small():
  with pytest.raises(ValueError, match='feature axes'):
    nn.ConvLSTMCell(2, (3, 3)).init(jax.random.PRNGKey(0), (jnp.zeros((4, 2)),) * 2,
                                    jnp.ones((4, 2)))
