"""flaxen.core.spmd: the rule context, rule renaming helpers and shard_value.

Expected values were obtained by running the same calls on the reference (flax 0.12.8).
"""

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental.layout import Format
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from flaxen import linen as nn
from flaxen.core import spmd


@pytest.fixture
def mesh():
  return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ('data', 'model'))


def test_rules_are_returned_as_given():
  rules = [('batch', 'data')]
  spmd.set_logical_axis_rules(rules)
  try:
    assert spmd.get_logical_axis_rules() is rules
    assert nn.get_logical_axis_rules() is rules  # one state for core and linen
  finally:
    spmd.set_logical_axis_rules(())
  inner = [('embed', 'model')]
  with nn.logical_axis_rules(inner):
    assert spmd.get_logical_axis_rules() is inner
  assert spmd.get_logical_axis_rules() == ()


def test_rules_context_is_per_thread():
  seen = []
  with spmd.logical_axis_rules((('a', 'x'),)):
    t = threading.Thread(target=lambda: seen.append(spmd.get_logical_axis_rules()))
    t.start()
    t.join()
  assert seen == [()]


def test_composite_rules():
  assert spmd.composite_rules((('a', 'x'),), (('b', 'y'),)) == (('a', 'x'), ('b', 'y'))
  only = [('a', 'x')]
  assert spmd.composite_rules(only, ()) is only
  assert spmd.composite_rules((), only) is only
  assert spmd.composite_rules(None, None) == ()
  assert spmd.composite_rules((('a', 'x'),), (('a', 'x'), ('c', None))) == (('a', 'x'), ('c', None))
  with pytest.raises(ValueError, match='Inconsistent logical axis annotations for a: x vs y'):
    spmd.composite_rules((('a', 'x'),), (('a', 'y'),))


def test_from_sharding_rules():
  got = spmd.from_sharding_rules(('a', None, 'b', 'c'), (('a', 'x'), ('b', None)))
  assert got == ('x', None, None, 'c')


def test_map_sharding_and_get_mesh(mesh):
  rename = lambda a: {'d': 'data', 'm': 'model'}.get(a, a)
  assert spmd.map_sharding(rename, ('d', None)) == P('data', None)
  assert spmd.map_sharding(rename, P('m')) == P('model')
  ns = spmd.map_sharding(rename, NamedSharding(mesh, P('model', 'data')))
  assert isinstance(ns, NamedSharding) and ns.spec == P('model', 'data') and ns.mesh is mesh
  swap = lambda a: {'data': 'model', 'model': 'data'}.get(a, a)
  fmt = spmd.map_sharding(swap, Format(None, NamedSharding(mesh, P('data'))))
  assert isinstance(fmt, Format) and fmt.sharding.spec == P('model')
  assert spmd.map_sharding(rename, 'data') is None
  assert spmd.get_mesh(P('a')) is None and spmd.get_mesh(('a',)) is None
  assert spmd.get_mesh(NamedSharding(mesh, P())) is mesh
  assert spmd.get_mesh(Format(None, NamedSharding(mesh, P()))) is mesh
  assert spmd.get_mesh(3) is None


def test_apply_rules_and_get_pspec():
  assert spmd.apply_rules(P('a', None, 'q'), (('a', 'x'),)) == P('x', None, 'q')
  assert spmd.apply_rules(('a', None), None) == P('a', None)
  assert spmd.get_pspec(('a', 'b'), (('a', 'data'),)) == P('data', 'b')
  with nn.logical_axis_rules((('a', 'data'),)):
    assert spmd.apply_rules(('a', 'b'), (('b', 'model'),)) == P('data', 'model')
    with pytest.raises(ValueError, match='Inconsistent logical axis annotations for a'):
      spmd.apply_rules(('a', 'b'), (('a', 'model'),))


def test_shard_value(mesh):
  assert spmd.shard_value(1.0, (), None, None) == 1.0
  with pytest.raises(ValueError, match='An auto mesh context or metadata is required'):
    spmd.shard_value(jnp.ones((8, 4)), ('a', None), None, None)
  y = spmd.shard_value(jnp.ones((8, 4)), ('a', None), (('a', 'data'),), mesh)
  assert y.sharding == NamedSharding(mesh, P('data', None))
  y = spmd.shard_value(jnp.ones((8, 4)), NamedSharding(mesh, P('data')), None, None)
  assert y.sharding.spec == P('data')
  with jax.set_mesh(mesh):
    y = jax.jit(lambda v: spmd.shard_value(v, ('a',), (('a', 'model'),), None))(jnp.ones(8))
  assert y.sharding.spec == P('model')


def test_shard_value_on_explicit_and_mixed_meshes():
  explicit = jax.make_mesh((2, 4), ('data', 'model'))
  y = spmd.shard_value(jnp.ones((8, 4)), ('data', None), None, explicit)
  assert y.sharding == NamedSharding(explicit, P('data', None))
  mixed = jax.make_mesh((2, 4), ('data', 'model'), axis_types=(AxisType.Explicit, AxisType.Auto))
  with pytest.raises(ValueError) as e:
    spmd.shard_value(jnp.ones((8, 4)), ('data', None), None, mixed)
  assert 'Mesh must have all axes as Explicit or all axes as Auto. Got mixed axis types:' in str(
    e.value)
  assert 'axis_types=(jax.sharding.AxisType.Auto,)' in str(e.value)
