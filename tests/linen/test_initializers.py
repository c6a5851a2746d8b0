"""nn.initializers: JAX's builders re-exported unchanged, plus zeros_init / ones_init."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

BUILDERS = [
  'constant', 'delta_orthogonal', 'glorot_normal', 'glorot_uniform', 'he_normal', 'he_uniform',
  'kaiming_normal', 'kaiming_uniform', 'lecun_normal', 'lecun_uniform', 'normal', 'orthogonal',
  'truncated_normal', 'uniform', 'variance_scaling', 'xavier_normal', 'xavier_uniform',
]


def test_initializers_is_a_module():
  assert isinstance(nn.initializers, types.ModuleType)
  assert nn.initializers.__name__ == 'flaxen.linen.initializers'


@pytest.mark.parametrize('name', BUILDERS)
def test_builders_are_jax_builders(name):
  assert getattr(nn.initializers, name) is getattr(jax.nn.initializers, name)


@pytest.mark.parametrize('build, args', [
  ('lecun_normal', ()), ('glorot_uniform', ()), ('he_normal', ()), ('normal', (0.5,)),
  ('uniform', (2.0,)), ('truncated_normal', (0.3,)), ('orthogonal', ()),
  ('variance_scaling', (2.0, 'fan_avg', 'uniform')),
])
def test_same_values_as_jax(build, args):
  key = jax.random.PRNGKey(7)
  ours = getattr(nn.initializers, build)(*args)(key, (4, 3), jnp.float32)
  ref = getattr(jax.nn.initializers, build)(*args)(key, (4, 3), jnp.float32)
  np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16, jnp.int32])
def test_zeros_ones_init(dtype):
  key = jax.random.PRNGKey(0)
  z = nn.initializers.zeros_init()(key, (2, 3), dtype)
  o = nn.initializers.ones_init()(key, (3, 2), dtype)
  assert z.shape == (2, 3) and z.dtype == dtype and not np.asarray(z, np.float32).any()
  assert o.shape == (3, 2) and o.dtype == dtype and (np.asarray(o, np.float32) == 1).all()


def test_top_level_names():
  assert nn.zeros is nn.initializers.zeros
  assert nn.ones is nn.initializers.ones
  assert nn.zeros_init is nn.initializers.zeros_init
  assert nn.ones_init is nn.initializers.ones_init
  assert nn.zeros_init() is nn.zeros and nn.ones_init() is nn.ones
  assert nn.zeros_init.__module__ == 'flaxen.linen.initializers'


def test_initializer_type_is_exported():
  from flaxen import typing

  assert nn.initializers.Initializer is typing.Initializer  # the reference's flax.typing alias
