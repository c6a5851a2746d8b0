"""Padding arithmetic of the convolutions: ``nn.linear.canonicalize_padding`` and its effects."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen.linen import linear


@pytest.mark.parametrize('padding, rank, expected', [
  ('same', 2, 'SAME'), ('VALID', 1, 'VALID'), ('circular', 2, 'CIRCULAR'),
  ('Causal', 1, 'CAUSAL'), ('reflect', 3, 'REFLECT'),
  (1, 2, [(1, 1), (1, 1)]), (0, 1, [(0, 0)]),
  ([(1, 2), 3], 2, [(1, 2), (3, 3)]), (((0, 1), (2, 0), (1, 1)), 3, [(0, 1), (2, 0), (1, 1)]),
])
def test_canonicalize_padding(padding, rank, expected):
  assert linear.canonicalize_padding(padding, rank) == expected


@pytest.mark.parametrize('padding, rank', [
  ('FULL', 2), ([(1, 2)], 2), ([(1, 2, 3), (1, 1)], 2), ([1.5, 1], 2), (True, 1), (None, 1),
])
def test_canonicalize_padding_rejects(padding, rank):
  with pytest.raises(ValueError, match='(?i)invalid padding'):
    linear.canonicalize_padding(padding, rank)


def test_circular_uses_dilated_kernel_size():
  # kernel 2 with dilation 2 spans 3 pixels: CIRCULAR pads (1, 1) and keeps the size.
  x = jnp.arange(6.0).reshape(1, 6, 1)
  layer = nn.Conv(1, (2,), kernel_dilation=2, padding='CIRCULAR', use_bias=False,
                  kernel_init=nn.initializers.ones)
  y = layer.apply(layer.init(jax.random.PRNGKey(0), x), x)
  xp = np.pad(np.arange(6.0), (1, 1), mode='wrap')
  np.testing.assert_allclose(y[0, :, 0], xp[:-2] + xp[2:])


def test_causal_left_pads_by_dilated_extent():
  x = jnp.arange(5.0).reshape(1, 5, 1)
  layer = nn.Conv(1, (3,), kernel_dilation=2, padding='CAUSAL', use_bias=False,
                  kernel_init=nn.initializers.ones)
  y = layer.apply(layer.init(jax.random.PRNGKey(0), x), x)
  xp = np.concatenate([np.zeros(4), np.arange(5.0)])
  np.testing.assert_allclose(y[0, :, 0], xp[:-4] + xp[2:-2] + xp[4:])
