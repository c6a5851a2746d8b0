"""lift.while_loop: carried and broadcast variables."""

import jax
import jax.numpy as jnp

from flaxen.core import apply, init, lift


def body(scope, c):
  n = scope.variable('state', 'n', lambda: jnp.zeros((), jnp.int32))
  n.value += 1
  return c * scope.param('p', jax.nn.initializers.constant(2.0), ())


def cond(scope, c):
  return scope.get_variable('state', 'n') < 3


def run(scope, x):
  if scope.is_mutable_collection('params'):
    return body(scope, x)
  return lift.while_loop(cond, body, scope, x, carry_variables='state')


def test_while_loop_carries_state():
  _, v = init(run)(jax.random.PRNGKey(0), jnp.ones(()))
  y, state = apply(run, mutable='state')(v, jnp.ones(()))
  assert int(state['state']['n']) == 3 and float(y) == 4.0
