"""partitioning.param_with_axes / variable_with_axes / PartitionedVariable / get_axis_names.

Expected trees, constraint specs and messages come from running the same modules on the
reference (flax 0.12.8).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from flaxen import errors
from flaxen import linen as nn
from flaxen.linen import partitioning as nnp

RULES = (('batch', 'data'), ('hidden', 'model'))


@pytest.fixture
def mesh():
  return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ('data', 'model'))


def constraint_specs(fn, *args):
  eqns = jax.make_jaxpr(lambda *a: fn(*a))(*args).jaxpr.eqns
  return [e.params['sharding'].spec for e in eqns if e.primitive.name == 'sharding_constraint']


class Cached(nn.Module):
  @nn.compact
  def __call__(self, x):
    w = nnp.param_with_axes('w', nn.initializers.ones, (8, 4), axes=('batch', 'hidden'))
    c = nnp.variable_with_axes('cache', 'c', jnp.zeros, (8, 4), axes=('batch', 'hidden'))
    c.value = c.value + w
    return c.value * x


def test_axes_are_recorded_in_side_collections():
  v = Cached().init(jax.random.key(0), 1.0)
  assert sorted(v) == ['cache', 'cache_axes', 'params', 'params_axes']
  assert v['params_axes'] == {'w_axes': nnp.AxisMetadata(('batch', 'hidden'))}
  assert v['cache_axes'] == {'c_axes': nnp.AxisMetadata(('batch', 'hidden'))}
  assert nnp.get_axis_names(v['params_axes']) == {'w': P('batch', 'hidden')}
  assert isinstance(nnp.get_axis_names(v['cache_axes']), nn.FrozenDict)


def test_reads_and_writes_are_constrained(mesh):
  with jax.set_mesh(mesh), nnp.axis_rules(RULES):
    # init: the param read, the initial cache value, the read and the write of the cache
    init_specs = constraint_specs(lambda: Cached().init(jax.random.key(0), 1.0))
    assert init_specs == [P('data', 'model')] * 5
    v = Cached().init(jax.random.key(0), 1.0)
    apply_specs = constraint_specs(lambda v: Cached().apply(v, 1.0, mutable=['cache']), v)
    assert apply_specs == [P('data', 'model')] * 4
  # without a mesh, nothing is constrained
  assert constraint_specs(lambda: Cached().init(jax.random.key(0), 1.0)) == []


def test_no_axes_means_no_metadata_and_explicit_module():
  class NoAxes(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nnp.param_with_axes('w', nn.initializers.ones, (2,))

  assert jax.tree_util.tree_map(jnp.shape, NoAxes().init(jax.random.key(0), 1.0)) == {
    'params': {'w': (2,)}}

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      nnp.param_with_axes('w', nn.initializers.ones, (2,), axes=('a',), module=self)
      return x

  v = Outer().init(jax.random.key(0), 1.0)
  assert v['params_axes'] == {'w_axes': nnp.AxisMetadata(('a',))}
  with pytest.raises(AssertionError):
    nnp.param_with_axes('w', nn.initializers.ones, (2,), axes=('a',))


class _Layer(nn.Module):
  @nn.compact
  def __call__(self, x, axis):
    return x * nnp.param_with_axes('w', nn.initializers.ones, (2,), axes=(axis,))


def test_sowing_the_same_names_twice():
  class Same(nn.Module):
    @nn.compact
    def __call__(self, x):
      layer = _Layer()
      return layer(layer(x, 'a'), 'a')

  class Different(nn.Module):
    @nn.compact
    def __call__(self, x):
      layer = _Layer()
      return layer(layer(x, 'a'), 'b')

  assert Same().init(jax.random.key(0), jnp.ones(2))['params_axes'] == {
    '_Layer_0': {'w_axes': nnp.AxisMetadata(('a',))}}
  with pytest.raises(ValueError, match='If axis names are sown twice, expected them to match'):
    Different().init(jax.random.key(0), jnp.ones(2))


def test_param_name_in_use():
  class Twice(nn.Module):
    @nn.compact
    def __call__(self, x):
      nnp.param_with_axes('w', nn.initializers.ones, (2,), axes=('a',))
      nnp.param_with_axes('w', nn.initializers.ones, (2,), axes=('a',))
      return x

  with pytest.raises(errors.NameInUseError, match='Could not create param "w" in Module Twice'):
    Twice().init(jax.random.key(0), 1.0)


def test_missing_variable_in_an_immutable_collection():
  class Reader(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nnp.variable_with_axes('cache', 'c', jnp.zeros, (2,), axes=('a',)).value

  with pytest.raises(errors.ScopeVariableNotFoundError,
                     match='No Variable named "c" for collection "cache" exists in "/"'):
    Reader().apply({}, 1.0)


def test_variable_fallback_raise(mesh):
  class Strict(nn.Module):
    @nn.compact
    def __call__(self):
      return nnp.variable_with_axes('cache', 'c', jnp.zeros, (8,), axes=('foo',),
                                    fallback=nnp.RulesFallback.RAISE_ERROR).value

  with jax.set_mesh(mesh), nnp.axis_rules((('batch', 'data'),)):
    with pytest.raises(ValueError, match=r"Axis names \('foo',\) did not match a rule"):
      Strict().init(jax.random.key(0))


def test_partitioned_variable_is_a_variable():
  var = nnp.PartitionedVariable(None, 'c', 'n', ('a',))
  assert isinstance(var, nn.Variable)
  assert (var.axes, var.fallback, var.collection, var.name) == (
    ('a',), nnp.RulesFallback.AXIS_IS_UNSHARDED, 'c', 'n')


def test_axis_metadata_is_static_and_get_axis_names_handles_trees():
  assert jax.tree_util.tree_leaves(nnp.AxisMetadata(('a',))) == []
  got = nnp.get_axis_names({'a': {'b_axes': nnp.AxisMetadata(('x', None)),
                                  'c_axes': nnp.AxisMetadata(None)}})
  assert got == {'a': {'b': P('x', None), 'c': None}}
  got = nnp.get_axis_names({'b_axes': nnp.AxisMetadata({'k': ('x',), 'j': ('y', None)})})
  assert got == {'b': {'k': P('x'), 'j': P('y', None)}}


def test_legacy_aliases():
  assert nnp.with_sharding_constraint is nn.with_logical_constraint
  assert nnp.axis_rules is nn.logical_axis_rules
  assert nnp.get_axis_rules is nn.get_logical_axis_rules
  assert nnp.set_axis_rules is nn.set_logical_axis_rules
  assert nnp.logical_to_mesh_axes(('batch', 'x'), RULES) == P('data', None)
  from flaxen.typing import In, Out

  assert nnp.ScanIn is In and nnp.ScanOut is Out
