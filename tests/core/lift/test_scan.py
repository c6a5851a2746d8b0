"""lift.scan: scanned, broadcast and carried variables; two traces; errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.core import apply, init, lift


def dense(scope, x):
  k = scope.param('kernel', jax.nn.initializers.lecun_normal(), (x.shape[-1], x.shape[-1]))
  return x @ k


def body(scope, c, x):
  c = jnp.tanh(dense(scope, c)) + x
  return c, c.sum()


def test_scanned_params_use_second_pass_counters():
  f = lift.scan(body, variable_axes={'params': 0}, split_rngs={'params': True})
  (c, ys), v = init(f)(jax.random.PRNGKey(0), jnp.zeros(2), jnp.ones((3, 2)))
  k = v['params']['kernel']
  assert k.shape == (3, 2, 2) and ys.shape == (3,)
  # the body is traced twice, so the kernel uses counter 2 (golden RNG rule 7)
  from flaxen._src.core.rng import LazyRng

  base = jax.random.split(jax.random.PRNGKey(0), 3)[1]
  expected = jax.nn.initializers.lecun_normal()(LazyRng(base, (2,)).as_jax_rng(), (2, 2))
  np.testing.assert_array_equal(k[1], expected)
  (c2, ys2) = apply(f)(v, jnp.zeros(2), jnp.ones((3, 2)))
  np.testing.assert_allclose(ys2, ys, rtol=1e-6)


def test_broadcast_params_are_created_once():
  f = lift.scan(body, variable_broadcast='params', split_rngs={'params': False})
  (c, ys), v = init(f)(jax.random.PRNGKey(0), jnp.zeros(2), jnp.ones((4, 2)))
  assert v['params']['kernel'].shape == (2, 2)
  unrolled = jnp.zeros(2)
  for _ in range(4):
    unrolled = jnp.tanh(unrolled @ v['params']['kernel']) + 1.0
  np.testing.assert_allclose(c, unrolled, rtol=1e-6)


def test_broadcast_depending_on_split_rng_raises():
  f = lift.scan(body, variable_broadcast='params', split_rngs={'params': True})
  with pytest.raises(ValueError, match='broadcast variable'):
    init(f)(jax.random.PRNGKey(0), jnp.zeros(2), jnp.ones((4, 2)))


def test_carry_variables_are_threaded():
  def counting(scope, c, x):
    n = scope.variable('counter', 'n', lambda: jnp.zeros(()))
    n.value = n.value + 1.0
    return c + x * n.value, ()

  def run(scope, xs):
    scope.variable('counter', 'n', lambda: jnp.zeros(()))
    return lift.scan(counting, variable_carry='counter')(scope, jnp.zeros(()), xs)

  (c0, _), v = init(run)(jax.random.PRNGKey(0), jnp.ones(3))
  assert float(v['counter']['n']) == 3.0 and float(c0) == 6.0
  (c, _), mutated = apply(run, mutable='counter')(v, jnp.ones(3))
  assert float(mutated['counter']['n']) == 6.0 and float(c) == 4.0 + 5.0 + 6.0


def test_carry_variable_created_in_body_raises():
  def creating(scope, c, x):
    scope.variable('counter', 'new', lambda: jnp.zeros(()))
    return c, ()

  f = lift.scan(creating, variable_carry='counter')
  with pytest.raises(ValueError, match='variable_carry'):
    init(f)(jax.random.PRNGKey(0), jnp.zeros(()), jnp.ones(3))


def test_inconsistent_lengths_and_missing_length():
  f = lift.scan(lambda s, c, a, b: (c, ()), in_axes=(0, 0))
  with pytest.raises(ValueError, match='inconsistent lengths'):
    init(f)(jax.random.PRNGKey(0), 0.0, jnp.ones(3), jnp.ones(4))
  g = lift.scan(lambda s, c: (c, ()))
  with pytest.raises(ValueError, match='length'):
    init(g)(jax.random.PRNGKey(0), 0.0)


def test_broadcast_inputs_and_reverse():
  def step(scope, c, x, w):
    return c * w + x, c

  f = lift.scan(step, in_axes=(0, lift.broadcast), reverse=True)
  (c, ys), _ = init(f)(jax.random.PRNGKey(0), jnp.zeros(()), jnp.arange(3.0), 2.0)
  assert float(c) == 2.0 * (2.0 * 2.0 + 1.0) + 0.0
  np.testing.assert_allclose(ys, [5.0, 2.0, 0.0])


def test_kwargs_are_broadcast_and_single_trace_mode():
  traces = []

  def step(scope, c, x, scale=1.0):
    traces.append(1)
    return c + x * scale, ()

  f = lift.scan(step, check_constancy_invariants=False)
  (c, _), _ = init(f)(jax.random.PRNGKey(0), jnp.zeros(()), jnp.ones(3), scale=2.0)
  assert float(c) == 6.0 and len(traces) == 1


def test_remove_axis_runs_before_the_length_is_found(averaged_box):
  # as in the reference: boxes get their axis back (remove_axis) before the length is found
  def body(scope, c, x):
    v = scope.variable('aux', 'v', lambda: averaged_box(jnp.ones(())), unbox=False)
    assert v.value.value.shape == ()
    return c + v.value.value, x

  g = lift.scan(body, variable_axes={'aux': 0}, split_rngs={}, in_axes=0,
                metadata_params={'axis_size': 3})
  (c, ys), v = init(g)(jax.random.PRNGKey(0), jnp.zeros(()), jnp.ones((3, 5)))
  assert v['aux']['v'].value.shape == () and float(c) == 3.0
  (c2, _) = apply(g)(v, jnp.zeros(()), jnp.ones((3, 5)))
  assert float(c2) == 3.0
