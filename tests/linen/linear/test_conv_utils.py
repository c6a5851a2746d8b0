"""Padding arithmetic of the convolutions: ``nn.linear.canonicalize_padding`` and its effects."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen.linen import linear


@pytest.mark.parametrize('padding, rank, expected', [
  # strings are returned unchanged (the layers and lax interpret them), as in the reference
  ('same', 2, 'same'), ('VALID', 1, 'VALID'), ('circular', 2, 'circular'),
  ('Causal', 1, 'Causal'), ('FULL', 3, 'FULL'),
  (1, 2, [(1, 1), (1, 1)]), (0, 1, [(0, 0)]), (True, 1, [(True, True)]),
  ([(1, 2), 3], 2, [(1, 2), (3, 3)]), (((0, 1), (2, 0), (1, 1)), 3, [(0, 1), (2, 0), (1, 1)]),
])
def test_canonicalize_padding(padding, rank, expected):
  assert linear.canonicalize_padding(padding, rank) == expected


@pytest.mark.parametrize('padding, rank', [
  ([(1, 2)], 2), ([(1, 2, 3), (1, 1)], 2), ([1.5, 1], 2), (None, 1),
])
def test_canonicalize_padding_rejects_with_the_reference_text(padding, rank):
  with pytest.raises(ValueError) as info:
    linear.canonicalize_padding(padding, rank)
  assert str(info.value) == (f'Invalid padding format: {padding}, should be str, int, or a '
                             f'sequence of len {rank} where each element is an int or pair '
                             'of ints.')


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
