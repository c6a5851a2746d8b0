"""flaxen._src.linen._layer_utils: layer errors name class + module path; axis helpers.

Behaviour is checked through the public layers that use the helpers; the pure
helpers (``canonicalize_tuple``, ``reshape_init``, ``module_path``) also directly.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.linen import _layer_utils as lu

KEY = jax.random.key(0)


class Encoder(nn.Module):
  """Puts ``make()`` at ``/enc/<name>`` so error messages must show a nested path."""

  make: object

  @nn.compact
  def __call__(self, x):
    return Block(self.make, name='enc')(x)


class Block(nn.Module):
  make: object

  @nn.compact
  def __call__(self, x):
    return self.make()(x)


@pytest.mark.parametrize('make,x,expected', [
  (lambda: nn.DenseGeneral(3, axis=5, name='proj'), jnp.ones((2, 4)),
   'DenseGeneral "/enc/proj": axis 5 is out of range for an input of rank 2.'),
  (lambda: nn.DenseGeneral(3, axis=-3, name='proj'), jnp.ones((2, 4)),
   'DenseGeneral "/enc/proj": axis -3 is out of range for an input of rank 2.'),
  (lambda: nn.LayerNorm(reduction_axes=(1, 2)), jnp.ones((2, 4)),
   'LayerNorm "/enc/LayerNorm_0": reduction_axes 2 is out of range for an input of rank 2.'),
  (lambda: nn.Dense(3), jnp.ones(()),
   'Dense "/enc/Dense_0": expected an input with at least one axis'),
  (lambda: nn.GroupNorm(num_groups=3), jnp.ones((2, 4)),
   'GroupNorm "/enc/GroupNorm_0": number of groups (3) does not divide'),
])
def test_layer_errors_name_class_and_path(make, x, expected):
  with pytest.raises(ValueError) as info:
    Encoder(make).init(KEY, x)
  assert str(info.value).startswith(expected)


def test_top_level_layer_path_is_root():
  with pytest.raises(ValueError, match=r'^DenseGeneral "/": axis 2 is out of range'):
    nn.DenseGeneral(3, axis=2).init(KEY, jnp.ones((2, 4)))


def test_negative_axes_are_normalized_not_rejected():
  a = nn.DenseGeneral(3, axis=-1).init(KEY, jnp.ones((2, 4)))
  b = nn.DenseGeneral(3, axis=1).init(KEY, jnp.ones((2, 4)))
  np.testing.assert_array_equal(a['params']['kernel'], b['params']['kernel'])
  ln_neg = nn.LayerNorm(reduction_axes=-1, use_bias=False, use_scale=False)
  ln_pos = nn.LayerNorm(reduction_axes=1, use_bias=False, use_scale=False)
  x = jnp.arange(8.).reshape(2, 4)
  np.testing.assert_allclose(ln_neg.apply({}, x), ln_pos.apply({}, x))


def test_canonicalize_tuple():
  assert lu.canonicalize_tuple(3) == (3,)
  assert lu.canonicalize_tuple([1, 2]) == (1, 2)
  assert lu.canonicalize_tuple(np.array([4, 5])) == (4, 5)
  assert all(type(v) is int for v in lu.canonicalize_tuple(np.array([4, 5])))


def test_normalize_axes_and_layer_error_on_unbound_module():
  mdl = nn.Dense(3, name='head')
  assert lu.module_path(mdl) == '/head'
  assert lu.module_path(nn.Dense(3)) == '/'
  assert lu.normalize_axes(mdl, (-1, 0), 3) == (2, 0)
  with pytest.raises(ValueError, match=r'^Dense "/head": batch_dims -4 is out of range'):
    lu.normalize_axes(mdl, -4, 3, 'batch_dims')
  err = lu.layer_error(mdl, 'bad', TypeError)
  assert type(err) is TypeError and str(err) == 'Dense "/head": bad'


def test_check_min_rank():
  mdl = nn.Conv(2, (3,))
  lu.check_min_rank(mdl, jnp.ones((1, 2)), 2, '(batch, features)')
  with pytest.raises(ValueError, match=r'shape \(b, w, c\) \(rank >= 3\), got shape \(4,\)'):
    lu.check_min_rank(mdl, jnp.ones(4), 3, '(b, w, c)')


def test_reshape_init_uses_flat_fan_and_keeps_boxes():
  init = nn.initializers.lecun_normal()
  flat = init(KEY, (6, 5))
  shaped = lu.reshape_init(init, (6, 5))(KEY, (2, 3, 5))
  assert shaped.shape == (2, 3, 5)
  np.testing.assert_array_equal(shaped.reshape(6, 5), flat)
  boxed_init = nn.with_partitioning(init, ('a', 'b', 'c'))
  boxed = lu.reshape_init(boxed_init, (6, 5))(KEY, (2, 3, 5), jnp.float32)
  assert isinstance(boxed, nn.Partitioned) and boxed.names == ('a', 'b', 'c')
  assert boxed.value.shape == (2, 3, 5)
  np.testing.assert_array_equal(boxed.value.reshape(6, 5), flat)

