"""Bad-input errors of the attention layers: both ValueError and AssertionError, with a path."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn


class Encoder(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.MultiHeadDotProductAttention(num_heads=5, name='attn')(x)


def test_error_names_class_and_nested_path():
  with pytest.raises(ValueError) as info:
    Encoder(name='enc').init(jax.random.PRNGKey(0), jnp.ones((1, 2, 4)))
  message = str(info.value)
  assert 'MultiHeadDotProductAttention' in message and '/attn' in message
  assert 'divisible' in message


def test_reference_style_assertion_handlers_still_catch():
  try:
    nn.combine_masks(jnp.ones((1,)), jnp.ones((1, 1)))
  except AssertionError as e:  # the reference asserts here
    assert isinstance(e, ValueError)
  else:
    pytest.fail('no error raised')
