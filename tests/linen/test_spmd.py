"""nn.spmd: logical axis rules, specs, constraints and LogicallyPartitioned boxes.

Expected specs, jaxpr constraints and messages were obtained by running the same calls on
the reference (flax 0.12.8) with 8 fake CPU devices.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from flaxen import linen as nn
from flaxen.linen import spmd

P = PartitionSpec
U = PartitionSpec.UNCONSTRAINED
RULES = (('batch', 'data'), ('hidden', 'model'))


@pytest.fixture
def mesh():
  return Mesh(np.array(jax.devices()[:8]).reshape(2, 4), ('data', 'model'))


def constraints(fn, *args):
  """(spec, unconstrained_dims) of each top-level sharding_constraint in ``fn``'s jaxpr.

  ``fn`` is wrapped in a fresh lambda: JAX caches traces per function and mesh, and the
  logical rules (a Python context) are not part of that key.
  """
  eqns = jax.make_jaxpr(lambda *a: fn(*a))(*args).jaxpr.eqns
  return [(e.params['sharding'].spec, set(e.params['unconstrained_dims']))
          for e in eqns if e.primitive.name == 'sharding_constraint']


# ---------------------------------------------------------------- logical_to_mesh_axes

def test_logical_to_mesh_axes_priority():
  rules = (('batch', 'X'), ('features', 'X'), ('heads', 'Y'), ('batch', 'Z'))
  spec = nn.logical_to_mesh_axes(('batch', 'length', 'heads', 'features'), rules)
  assert spec == P('X', None, 'Y', None)
  assert nn.logical_to_mesh_axes(None, rules) is None
  assert nn.logical_to_mesh_axes(P('batch', 'hidden'), RULES) == P('data', 'model')


def test_tuple_mesh_axes_and_none_rules():
  rules = (('batch', ('data', 'model')), ('hidden', 'model'))
  assert nn.logical_to_mesh_axes(('batch', 'hidden'), rules) == P(('data', 'model'), None)
  # a rule to None assigns "unsharded" and blocks the later rules for that name
  rules = (('batch', None), ('batch', 'data'), ('hidden', 'model'))
  assert nn.logical_to_mesh_axes(('batch', 'hidden'), rules) == P(None, 'model')


def test_unconstrained_is_kept_and_may_repeat():
  spec = nn.logical_to_mesh_axes(('batch', U, U, None, None), RULES)
  assert spec == P('data', U, U, None, None)
  assert nn.logical_to_mesh_axes(('batch', U, 'hidden'), RULES) == P('data', U, 'model')
  assert nn.logical_to_mesh(P('batch', U), RULES) == P('data', U)


def test_duplicate_names_and_bad_rules_raise():
  with pytest.raises(ValueError, match=r"Dimensions \('a',\) occur more than once in array names"):
    nn.logical_to_mesh_axes(('a', 'a'), (('a', 'x'),))
  with pytest.raises(ValueError, match='Unknown axis rule specification type.'):
    nn.logical_to_mesh_axes(('a',), 'nope')
  with pytest.raises(ValueError, match='occur more than once'):  # checked first, as the reference
    nn.logical_to_mesh_axes(('a', 'a'), 'nope')


def test_rules_context_and_global():
  assert nn.get_logical_axis_rules() == ()
  with nn.logical_axis_rules((('batch', 'data'),)):
    assert nn.get_logical_axis_rules() == (('batch', 'data'),)
    assert nn.logical_to_mesh_axes(('batch', 'embed')) == P('data', None)
  assert nn.get_logical_axis_rules() == ()
  given = [('embed', 'model')]
  nn.set_logical_axis_rules(given)
  try:
    assert nn.get_logical_axis_rules() is given  # the reference returns what it was given
    assert nn.logical_to_mesh_axes(('batch', 'embed')) == P(None, 'model')
  finally:
    nn.set_logical_axis_rules(())


def test_logical_to_mesh_tree_and_sharding(mesh):
  tree = {'w': P('embed', 'hidden'), 'b': P('hidden')}
  out = spmd.logical_to_mesh(tree, RULES)
  assert out == {'w': P(None, 'model'), 'b': P('model')}
  sh = nn.logical_to_mesh_sharding(tree, mesh, RULES)
  assert isinstance(sh['w'], NamedSharding) and sh['w'].spec == P(None, 'model')


# ---------------------------------------------------------------- with_logical_constraint

def test_constraints_apply_on_cpu_with_a_global_mesh(mesh):
  x = jnp.ones((8, 4))
  f = lambda a: nn.with_logical_constraint(a, ('batch', 'hidden'))
  with nn.logical_axis_rules(RULES):
    assert constraints(f, x) == []  # no mesh known: a no-op
    with jax.set_mesh(mesh):
      assert constraints(f, x) == [(P('data', 'model'), set())]
      assert jax.jit(f)(x).sharding.spec == P('data', 'model')
  with jax.set_mesh(mesh):
    assert constraints(f, x) == []  # no rules: a no-op
    assert nn.with_logical_constraint(x, ('batch', 'hidden')) is x


def test_explicit_mesh_argument(mesh):
  x = jnp.ones((8, 4))
  f = lambda a: nn.with_logical_constraint(a, ('batch', None), rules=RULES, mesh=mesh)
  assert constraints(f, x) == [(P('data', None), set())]
  out = jax.jit(f)(x).sharding
  assert out.mesh == mesh and out.spec == P('data')


def test_one_spec_for_a_whole_tree(mesh):
  f = lambda a, b: nn.with_logical_constraint([a, b], ('batch', 'hidden'), rules=RULES)
  args = (jnp.ones((8, 4)), jnp.ones((8, 8)))
  with jax.set_mesh(mesh):
    assert constraints(f, *args) == [(P('data', 'model'), set())] * 2
    out = jax.jit(f)(*args)
  assert [o.sharding.spec for o in out] == [P('data', 'model')] * 2


def test_tree_of_specs_with_none_leaves(mesh):
  f = lambda a, b: nn.with_logical_constraint(
    {'a': a, 'b': b}, {'a': None, 'b': ('batch',)}, rules=RULES)
  with jax.set_mesh(mesh):
    assert constraints(f, jnp.ones(8), jnp.ones(8)) == [(P(), set()), (P('data'), set())]


def test_unconstrained_stays_unconstrained(mesh):
  f = lambda a: nn.with_logical_constraint(a, ('batch', U, U), rules=RULES)
  with jax.set_mesh(mesh):
    assert constraints(f, jnp.ones((8, 4, 2))) == [(P('data', U, U), {1, 2})]


def test_fallbacks(mesh):
  x = jnp.ones((8, 4))
  with jax.set_mesh(mesh):
    with pytest.raises(ValueError, match=r"Axis names \('batch', 'foo'\) did not match a rule"):
      jax.jit(lambda a: nn.with_logical_constraint(
        a, ('batch', 'foo'), rules=RULES, fallback=nn.RulesFallback.RAISE_ERROR))(x)
    with pytest.raises(ValueError, match=r"Axis names P\('batch', 'foo'\) did not match a rule"):
      jax.jit(lambda a: nn.with_logical_constraint(
        a, P('batch', 'foo'), rules=RULES, fallback=nn.RulesFallback.RAISE_ERROR))(x)
    skip = lambda a: nn.with_logical_constraint(
      a, ('batch', 'foo'), rules=RULES, fallback=nn.RulesFallback.NO_CONSTRAINT)
    assert constraints(skip, x) == []
    unsharded = lambda a: nn.with_logical_constraint(a, ('batch', 'foo'), rules=RULES)
    assert constraints(unsharded, x) == [(P('data', None), set())]


def test_legacy_mesh_context_is_not_a_global_mesh(mesh):
  import warnings

  f = lambda a: nn.with_logical_constraint(a, ('batch', 'hidden'), rules=RULES)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    with mesh:
      assert constraints(f, jnp.ones((8, 4))) == []


# ---------------------------------------------------------------- Explicit meshes (jax.make_mesh)

def test_explicit_mesh_reshards():
  mesh = jax.make_mesh((2, 4), ('data', 'model'))
  assert set(mesh.axis_types) == {AxisType.Explicit}

  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      kernel_init = nn.with_logical_partitioning(nn.initializers.ones, ('embed', 'hidden'))
      y = nn.Dense(8, kernel_init=kernel_init)(x)
      return nn.with_logical_constraint(y, ('batch', 'hidden'))

  x = jnp.ones((4, 8))
  with jax.set_mesh(mesh), nn.logical_axis_rules(RULES):
    v = jax.jit(M().init)(jax.random.key(0), x)
    y = jax.jit(M().apply)(v, x)
    assert y.sharding.spec == P('data', 'model')
    # UNCONSTRAINED keeps the sharding the value already has
    x2 = jax.sharding.reshard(x, P(None, 'model'))
    z = jax.jit(lambda a: nn.with_logical_constraint(a, ('batch', U)))(x2)
    assert z.sharding.spec == P('data', 'model')
  np.testing.assert_allclose(np.asarray(y), np.full((4, 8), 8.0))
  # eagerly, a mesh argument is enough
  with nn.logical_axis_rules(RULES):
    eager = nn.with_logical_constraint(x, ('batch', 'hidden'), mesh=mesh)
  assert eager.sharding == NamedSharding(mesh, P('data', 'model'))


def test_explicit_mesh_inside_jit_without_its_context_says_what_to_do():
  mesh = jax.make_mesh((2, 4), ('data', 'model'))
  with pytest.raises(ValueError, match=r'jax.set_mesh\(mesh\)'):
    jax.jit(lambda a: nn.with_logical_constraint(a, ('batch', None), rules=RULES, mesh=mesh))(
      jnp.ones((4, 8)))


def test_mixed_axis_types_are_rejected_with_the_fix():
  mixed = jax.make_mesh((2, 4), ('data', 'model'),
                        axis_types=(AxisType.Explicit, AxisType.Auto))
  with pytest.raises(ValueError) as e:
    jax.jit(lambda a: nn.with_logical_constraint(a, ('batch', None), rules=RULES, mesh=mixed))(
      jnp.ones((4, 8)))
  assert 'Mesh must have all axes as Explicit or all axes as Auto' in str(e.value)
  assert 'axis_types=(jax.sharding.AxisType.Auto,) * len(axis_names)' in str(e.value)


# ---------------------------------------------------------------- LogicallyPartitioned

def test_logically_partitioned_unbox(mesh):
  x = jnp.ones(8)
  box = lambda **kw: (lambda v: nn.LogicallyPartitioned(v, ('batch',), **kw).unbox())
  with nn.logical_axis_rules(RULES):
    assert constraints(box(), x) == []  # no mesh
    with jax.set_mesh(mesh):
      assert constraints(box(), x) == [(P('data'), set())]
  # a mesh on the box but no rules anywhere: no constraint (as the reference)
  assert constraints(box(mesh=mesh), x) == []
  assert constraints(box(mesh=mesh, rules=RULES), x) == [(P('data'), set())]


def test_logically_partitioned_sharding_and_nnx_metadata(mesh):
  box = nn.LogicallyPartitioned(jnp.ones(8), ('batch',), rules=RULES)
  assert box.get_partition_spec() == P('batch')
  assert box.get_sharding(mesh) == NamedSharding(mesh, P('data'))
  assert nn.get_sharding({'w': box}, mesh)['w'].spec == P('data')
  plain = nn.LogicallyPartitioned(jnp.ones(8), ('data',))
  assert plain.get_sharding(mesh).spec == P('data')  # no rules: names are mesh axes
  md = nn.LogicallyPartitioned(1, ('a',), rules=(('a', 'x'),)).to_nnx_metadata()
  assert md == {'value': 1, 'mesh': None, 'out_sharding': ('a',), 'sharding_rules': (('a', 'x'),)}
  back = nn.LogicallyPartitioned.from_nnx_metadata(
    {'value': 1, 'out_sharding': ('a',), 'sharding_rules': None, 'mesh': None, 'foo': 3})
  assert back == nn.LogicallyPartitioned(1, ('a',))


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
  assert specs['params']['W1'] == P('layer', 'embed', 'hidden')
  mesh_specs = spmd.logical_to_mesh(specs, RULES)
  assert mesh_specs['params']['W1'] == P(None, None, 'model')
