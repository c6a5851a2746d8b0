"""nn.spmd: logical axis rules, specs, constraints and LogicallyPartitioned boxes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from flaxen import linen as nn
from flaxen.linen import spmd


def test_logical_to_mesh_axes_priority():
  rules = (('batch', 'X'), ('features', 'X'), ('heads', 'Y'), ('batch', 'Z'))
  spec = nn.logical_to_mesh_axes(('batch', 'length', 'heads', 'features'), rules)
  assert spec == PartitionSpec('X', None, 'Y', None)
  assert nn.logical_to_mesh_axes(None, rules) is None


def test_duplicate_names_and_bad_rules_raise():
  with pytest.raises(ValueError, match='more than once'):
    nn.logical_to_mesh_axes(('a', 'a'), (('a', 'x'),))
  with pytest.raises(ValueError, match='rule'):
    nn.logical_to_mesh_axes(('a',), 'nope')


def test_rules_context_and_global():
  assert nn.get_logical_axis_rules() == ()
  with nn.logical_axis_rules((('batch', 'data'),)):
    assert nn.get_logical_axis_rules() == (('batch', 'data'),)
    assert nn.logical_to_mesh_axes(('batch', 'embed')) == PartitionSpec('data', None)
  assert nn.get_logical_axis_rules() == ()
  nn.set_logical_axis_rules((('embed', 'model'),))
  try:
    assert nn.logical_to_mesh_axes(('batch', 'embed')) == PartitionSpec(None, 'model')
  finally:
    nn.set_logical_axis_rules(())


def test_logical_to_mesh_tree_and_sharding():
  tree = {'w': PartitionSpec('embed', 'hidden'), 'b': PartitionSpec('hidden')}
  rules = (('batch', 'data'), ('hidden', 'model'))
  out = spmd.logical_to_mesh(tree, rules)
  assert out == {'w': PartitionSpec(None, 'model'), 'b': PartitionSpec('model')}
  mesh = Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ('data', 'model'))
  sh = nn.logical_to_mesh_sharding(tree, mesh, rules)
  assert isinstance(sh['w'], NamedSharding) and sh['w'].spec == PartitionSpec(None, 'model')


def test_with_logical_constraint_is_noop_without_rules_or_on_cpu():
  x = jnp.ones((2, 3))
  assert nn.with_logical_constraint(x, ('batch', 'embed')) is x
  y = nn.with_logical_constraint(x, ('batch', 'embed'), rules=(('batch', 'data'),))
  assert y.shape == x.shape


def test_fallback_raise_error():
  from flaxen._src.linen.spmd import _with_fallback

  with pytest.raises(ValueError, match='did not match'):
    _with_fallback(('a', 'b'), (('a', 'x'),), nn.RulesFallback.RAISE_ERROR)
  spec = _with_fallback(('a', 'b'), (('a', 'x'),), nn.RulesFallback.NO_CONSTRAINT)
  assert spec[1] is PartitionSpec.UNCONSTRAINED


def test_logically_partitioned_box_in_scan():
  class LogicalDotReluDot(nn.Module):
    depth: int

    @nn.compact
    def __call__(self, x):
      w1 = self.param('W1', spmd.with_logical_partitioning(
        nn.initializers.xavier_normal(), ('embed', 'hidden')), (x.shape[-1], self.depth))
      y = spmd.with_logical_constraint(jax.nn.relu(x @ w1), ('batch', 'hidden'))
      return y, None

  stack = nn.scan(LogicalDotReluDot, length=3, variable_axes={'params': 0},
                  split_rngs={'params': True}, metadata_params={nn.PARTITION_NAME: 'layer'})
  v = jax.eval_shape(lambda: stack(4).init(jax.random.PRNGKey(0), jnp.ones((2, 4))))
  box = v['params']['W1']
  assert isinstance(box, nn.LogicallyPartitioned)
  assert box.names == ('layer', 'embed', 'hidden') and box.rules is None
  assert repr(box).startswith('LogicallyPartitioned(value=')
  specs = nn.get_partition_spec(v)
  assert specs['params']['W1'] == PartitionSpec('layer', 'embed', 'hidden')
  mesh_specs = spmd.logical_to_mesh(specs, (('batch', 'data'), ('hidden', 'model')))
  assert mesh_specs['params']['W1'] == PartitionSpec(None, None, 'model')
