"""partitioning.scan_with_axes / vmap_with_axes: the stacked axis is named in ``*_axes``.

Class names, trees and values come from the reference (flax 0.12.8).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from flaxen import linen as nn
from flaxen.linen import partitioning as nnp


class Layer(nn.Module):
  @nn.compact
  def __call__(self, x, _):
    w = nnp.param_with_axes('w', nn.initializers.ones, (x.shape[-1], 3), axes=('embed', 'mlp'))
    v = nnp.variable_with_axes('stats', 'mean', jnp.zeros, (3,), axes=('mlp',))
    v.value = v.value + 1
    return x @ w @ jnp.ones((3, x.shape[-1])), None


class Scanned(nn.Module):
  @nn.compact
  def __call__(self, x):
    stack = nnp.scan_with_axes(
      Layer, variable_axes={'params': 0, 'stats': 0}, split_rngs={'params': True}, length=2,
      axis_name='layers', axes_collections=('params', 'stats'))
    assert stack.__name__ == 'Map_variablesMap_variablesScanLayer'
    return stack()(x, None)[0]


def test_scan_with_axes_names_the_layer_axis():
  x = jnp.ones((2, 4))
  v = Scanned().init(jax.random.key(0), x)
  name = 'Map_variablesMap_variablesScanLayer_0'
  assert jax.tree_util.tree_map(jnp.shape, {k: v[k] for k in ('params', 'stats')}) == {
    'params': {name: {'w': (2, 4, 3)}}, 'stats': {name: {'mean': (2, 3)}}}
  assert v['params_axes'] == {name: {'w_axes': nnp.AxisMetadata(('layers', 'embed', 'mlp'))}}
  assert v['stats_axes'] == {name: {'mean_axes': nnp.AxisMetadata(('layers', 'mlp'))}}
  assert nnp.get_axis_names(v['params_axes']) == {name: {'w': P('layers', 'embed', 'mlp')}}
  y, state = Scanned().apply(v, x, mutable=['stats'])
  assert jax.tree_util.tree_map(jnp.shape, state) == {'stats': {name: {'mean': (2, 3)}}}
  np.testing.assert_array_equal(state['stats'][name]['mean'], np.full((2, 3), 2.0))
  np.testing.assert_allclose(y, np.full((2, 4), 144.0))


class Dense(nn.Module):
  @nn.compact
  def __call__(self, x, _):
    w = nnp.param_with_axes('w', nn.initializers.lecun_normal(), (x.shape[-1], x.shape[-1]),
                            axes=('embed', 'mlp'))
    return jnp.tanh(x @ w), None


class RematStack(nn.Module):
  @nn.compact
  def __call__(self, x):
    stack = nnp.scan_with_axes(nnp.remat(Dense), variable_axes={'params': 1},
                               split_rngs={'params': True}, length=3, axis_name='layers')
    return stack(name='stack')(x, None)[0]


def test_scan_of_remat_on_axis_one_matches_the_reference():
  x = jnp.ones((2, 4))
  v = RematStack().init(jax.random.key(1), x)
  assert jax.tree_util.tree_map(jnp.shape, v['params']) == {'stack': {'w': (4, 3, 4)}}
  assert nnp.get_axis_names(v['params_axes']) == {'stack': {'w': P('embed', 'layers', 'mlp')}}
  y = RematStack().apply(v, x)
  np.testing.assert_allclose(y, [[-0.84369, -0.09786, -0.05626, -0.17998]] * 2, atol=2e-5)
  # the metadata goes in and out again unchanged when its collection is mutable
  _, state = RematStack().apply(v, x, mutable=['params_axes'])
  assert state['params_axes'] == v['params_axes']


def test_wrong_metadata_on_the_way_in_is_reported():
  x = jnp.ones((2, 4))
  v = RematStack().init(jax.random.key(1), x)
  bad = {**v, 'params_axes': {'stack': {'w_axes': nnp.AxisMetadata(('embed', 'oops', 'mlp'))}}}
  with pytest.raises(ValueError, match="Expected axis layers at position 1 in axis metadata"):
    RematStack().apply(bad, x)


class VLayer(nn.Module):
  @nn.compact
  def __call__(self, x):
    w = nnp.param_with_axes('w', nn.initializers.ones, (x.shape[-1], 3), axes=('embed', 'mlp'))
    return x @ w


class Ensemble(nn.Module):
  @nn.compact
  def __call__(self, x):
    members = nnp.vmap_with_axes(VLayer, variable_axes={'params': 1},
                                 split_rngs={'params': True},
                                 partitioning_axis_names={'params': 'ens'})
    assert members.__name__ == 'Map_variablesVmapVLayer'
    return members()(x)


def test_vmap_with_axes_names_the_mapped_axis():
  v = Ensemble().init(jax.random.key(0), jnp.ones((5, 2, 4)))
  name = 'Map_variablesVmapVLayer_0'
  assert jax.tree_util.tree_map(jnp.shape, v['params']) == {name: {'w': (4, 5, 3)}}
  assert v['params_axes'] == {name: {'w_axes': nnp.AxisMetadata(('embed', 'ens', 'mlp'))}}
  y = Ensemble().apply(v, jnp.ones((5, 2, 4)))
  np.testing.assert_allclose(y, np.full((5, 2, 3), 4.0))
