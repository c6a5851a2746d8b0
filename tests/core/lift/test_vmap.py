"""lift.vmap: mapped / shared variables, split rngs, axis errors, metadata axes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen._src.core.rng import LazyRng
from flaxen.core import apply, init, lift, meta


def dense(scope, x, features=3):
  k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], features))
  return x @ k


def test_mapped_params_are_stacked_and_distinct():
  f = lift.vmap(dense, variable_axes={'params': 0}, split_rngs={'params': True})
  y, v = init(f)(jax.random.PRNGKey(0), jnp.ones((4, 2)))
  k = v['params']['kernel']
  assert k.shape == (4, 2, 3) and y.shape == (4, 3)
  assert not np.allclose(k[0], k[1])
  # split of the *base* key, path kept, counter 1 (golden RNG rule 6)
  expected = jax.random.split(jax.random.PRNGKey(0), 4)[2]
  key = LazyRng(expected, (1,)).as_jax_rng()
  np.testing.assert_array_equal(k[2], jax.nn.initializers.lecun_normal()(key, (2, 3)))
  np.testing.assert_allclose(apply(f)(v, jnp.ones((4, 2))), y, rtol=1e-6)


def test_shared_params_have_no_axis():
  f = lift.vmap(dense, variable_axes={'params': None}, split_rngs={'params': False})
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((5, 2)))
  assert v['params']['kernel'].shape == (2, 3)


def test_axis_size_needed_without_mapped_inputs():
  f = lift.vmap(dense, variable_axes={'params': 0}, split_rngs={'params': True}, in_axes=None)
  with pytest.raises(ValueError, match='axis_size'):
    init(f)(jax.random.PRNGKey(0), jnp.ones((2,)))
  g = lift.vmap(dense, variable_axes={'params': 0}, split_rngs={'params': True}, in_axes=None,
                axis_size=3)
  _, v = init(g)(jax.random.PRNGKey(0), jnp.ones((2,)))
  assert v['params']['kernel'].shape == (3, 2, 3)


def test_wrong_variable_axis_names_collection():
  f = lift.vmap(dense, variable_axes={'params': 0}, split_rngs={'params': True})
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((4, 2)))
  with pytest.raises(ValueError, match='variable "params/kernel" in "/": 4, argument'):
    apply(f)(v, jnp.ones((5, 2)))


def test_metadata_axis_is_added_and_removed():
  def boxed(scope, x):
    k = scope.param('k', meta.with_partitioning(jax.nn.initializers.ones, ('in', 'out')),
                    (x.shape[-1], 2))
    return x @ k

  f = lift.vmap(boxed, variable_axes={'params': 0}, split_rngs={'params': True},
                metadata_params={meta.PARTITION_NAME: 'batch'})
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((3, 4)))
  box = v['params']['k']
  assert box.names == ('batch', 'in', 'out') and box.value.shape == (3, 4, 2)
  assert apply(f)(v, jnp.ones((3, 4))).shape == (3, 2)


def test_remove_axis_runs_before_the_axis_is_checked(averaged_box):
  # as in the reference: the box gets to add the mapped axis (remove_axis) before the
  # vmap sizes and checks the variables, so a box may store them without it
  def f(scope, x):
    v = scope.variable('aux', 'v', lambda: averaged_box(jnp.ones(())), unbox=False)
    assert v.value.value.shape == ()
    return x + v.value.value

  g = lift.vmap(f, variable_axes={'aux': 0}, split_rngs={}, metadata_params={'axis_size': 2})
  y, v = init(g)(jax.random.PRNGKey(0), jnp.ones((2, 5)))
  assert v['aux']['v'].value.shape == () and y.shape == (2, 5)
  y2 = apply(g)(v, jnp.ones((2, 5)))
  np.testing.assert_array_equal(y, y2)
