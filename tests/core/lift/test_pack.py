"""pack: grouping, scope reconstruction, repack order, commit, de-duplication."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen.core import Scope, apply, init, lift


def dense(scope, x, features):
  k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], features))
  b = scope.param('bias', jax.nn.initializers.zeros, (features,))
  return x @ k + b[None, :]


def lift_transpose(fn, target='params', variables=True, rngs=True):
  """The design note's example: transpose every matrix of `target` going in."""

  def wrapper(scope_fn, repack_fn, variable_groups, rng_groups, *args):
    target, rest = variable_groups
    target = jax.tree_util.tree_map(lambda x: x.T if x.ndim == 2 else x, target)
    scope = scope_fn((target, rest), rng_groups)
    y = fn(scope, *args)
    return y, repack_fn(scope)

  return lift.pack(wrapper, (target, variables), (variables,), (rngs,))


def test_lift_transpose_example():
  x = jnp.ones((3, 2))
  y, variables = init(lift_transpose(dense))(jax.random.PRNGKey(0), x, 4)
  assert variables['params']['kernel'].shape == (2, 4)
  assert y.shape == (3, 4)
  # With a square kernel, apply sees the stored kernel transposed.
  x = jnp.arange(12.0).reshape(3, 4)
  _, variables = init(lift_transpose(dense))(jax.random.PRNGKey(1), x, 4)
  k = variables['params']['kernel']
  np.testing.assert_allclose(apply(lift_transpose(dense))(variables, x, 4), x @ k.T, rtol=1e-6)


def test_created_variables_come_back_sorted():
  def fn(scope):
    scope.put_variable('params', 'zz', 1.0)
    scope.put_variable('params', 'aa', 2.0)

  def outer(scope):
    lift.pack(_passthrough(fn), (True,), (True,), (True,))(scope)

  _, v = init(outer)(jax.random.PRNGKey(0))
  assert list(v['params']) == ['aa', 'zz']


def _passthrough(fn):
  def wrapper(scope_fn, repack_fn, variable_groups, rng_groups):
    scope = scope_fn(variable_groups, rng_groups)
    fn(scope)
    return None, repack_fn(scope)

  return wrapper


def test_immutable_collections_stay_read_only_inside():
  def fn(scope):
    scope.put_variable('state', 'n', 1)

  def outer(scope):
    scope.put_variable('state', 'n', 0)
    lift.pack(_passthrough(fn), (True,), ('params',), (True,))(scope)

  with pytest.raises(Exception, match='state'):
    init(outer)(jax.random.PRNGKey(0))


def test_unlifted_rng_is_unavailable():
  def fn(scope):
    scope.make_rng('dropout')

  def outer(scope):
    lift.pack(_passthrough(fn), (True,), (True,), ('other',))(scope)

  with pytest.raises(errors.InvalidRngError, match='dropout'):
    init(outer)({'params': jax.random.PRNGKey(0), 'dropout': jax.random.PRNGKey(1)})


def test_child_and_parent_are_deduplicated():
  seen = {}

  def wrapper(scope_fn, repack_fn, variable_groups, rng_groups):
    seen['n_roots'] = len(variable_groups[0])
    scopes = scope_fn(variable_groups, rng_groups)
    parent, child = scopes
    assert child.parent is parent  # rebuilt from the lifted root
    child.put_variable('params', 'w', jnp.ones(()))
    return None, repack_fn(scopes)

  def outer(scope):
    child = scope.push('child')
    lift.pack(wrapper, (True,), (True,), (True,))([scope, child])

  _, v = init(outer)(jax.random.PRNGKey(0))
  assert seen['n_roots'] == 1
  assert v['params']['child']['w'] == 1.0


def test_inner_scopes_are_invalidated_afterwards():
  leaked = []

  def fn(scope):
    leaked.append(scope)

  def outer(scope):
    lift.pack(_passthrough(fn), (True,), (True,), (True,))(scope)

  init(outer)(jax.random.PRNGKey(0))
  assert isinstance(leaked[0], Scope) and leaked[0].invalid


def test_inner_scope_continues_rng_counters():
  keys = []

  def fn(scope):
    keys.append(scope.make_rng('params'))

  def outer(scope):
    keys.append(scope.make_rng('params'))
    lift.pack(_passthrough(fn), (True,), (True,), (True,))(scope)
    keys.append(scope.make_rng('params'))

  init(outer)(jax.random.PRNGKey(0))
  assert len({tuple(np.asarray(k)) for k in keys}) == 3


def _mapped_dense(scope, x):
  mapped = lift.vmap(lambda s, x: dense(s, x, 2), variable_axes={'params': 0},
                     split_rngs={'params': True})
  return mapped(scope, x)


def test_no_tracer_outlives_the_transform():
  """The inner scopes (whose dicts hold the transform's tracers) are dropped at repack.

  ``jax.checking_leaks`` checks when the JAX transform returns, while the lifted
  call is still running; a reference kept by ``pack`` until then is a leak.
  """
  xs = jnp.ones((4, 1, 3))
  x = jnp.ones((1, 3))
  with jax.checking_leaks():
    _, v = init(_mapped_dense)(jax.random.key(0), xs)
    apply(_mapped_dense)(v, xs)
    init(lambda s, x: lift.scan(
      lambda s, c, x: (dense(s, c, 3), None), variable_axes={'params': 0},
      split_rngs={'params': True}, length=2)(s, x, None))(jax.random.key(0), x)
    init(lambda s, x: lift.checkpoint(dense, static_argnums=1)(s, x, 3))(jax.random.key(0), x)
    init(lambda s, x: lift.jit(dense, static_argnums=2)(s, x, 3))(jax.random.key(0), x)
