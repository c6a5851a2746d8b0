"""core.init / apply / bind: return shapes, flags, copying of mutable collections."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen.core import FrozenDict, apply, bind, init

zeros = jax.nn.initializers.zeros


def f(scope, x):
  scope.variable("stats", "n", lambda: 0).value += 0
  return x + scope.param("b", zeros, x.shape)


def test_init_returns_output_and_variables_with_flag():
  def g(scope):
    return scope.get_flag("initializing")

  flag, v = init(g)(jax.random.PRNGKey(0))
  assert flag is True and v == {}
  assert apply(g)({}) is None


def test_init_accepts_dict_of_rngs():
  out, v = init(f)({"params": jax.random.PRNGKey(0)}, jnp.ones(2))
  assert list(v) == ["stats", "params"]


def test_apply_mutable_filters():
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones(2))
  with pytest.raises(errors.ModifyScopeVariableError):
    apply(f)(v, jnp.ones(2))
  out, mutated = apply(f, mutable="stats")(v, jnp.ones(2))
  assert list(mutated) == ["stats"]


def test_apply_accepts_frozen_variables_and_copies_mutable_ones():
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones(2))
  frozen = FrozenDict(v)
  _, mutated = apply(f, mutable=True)(frozen, jnp.ones(2))
  assert type(mutated["stats"]) is dict
  assert mutated["stats"] is not v["stats"]


def test_bind_gives_long_lived_scope():
  scope = bind({"params": {"b": jnp.ones(2)}}, rngs={"params": jax.random.PRNGKey(0)})
  assert scope.param("b", zeros, (2,)).shape == (2,)
  assert scope.make_rng().shape == (2,)
  assert not scope.invalid
  with pytest.raises(errors.ApplyScopeInvalidVariablesTypeError):
    bind(3)
  with pytest.raises(errors.InvalidRngError):
    bind({}, rngs={"params": 1})


def test_apply_bare_key_rngs_means_params():
  def g(scope):
    return scope.make_rng("params")

  assert apply(g)({}, rngs=jax.random.PRNGKey(0)).shape == (2,)


@pytest.mark.parametrize("bad", ["x", 3, [1, 2], jnp.ones(3), {"params": "x"}])
def test_bad_rngs_raise_the_reference_value_error(bad):
  with pytest.raises(ValueError) as info:
    init(f)(bad, jnp.ones(2))
  assert str(info.value) == (
    'First argument passed to an init function should be a ``jax.PRNGKey`` or a dictionary '
    'mapping strings to ``jax.PRNGKey``.')
  # apply checks its rngs first, as the reference does (a plain ValueError, not InvalidRngError)
  with pytest.raises(ValueError) as info:
    apply(f)({}, jnp.ones(2), rngs=bad)
  assert type(info.value) is ValueError
  assert str(info.value) == (
    'The ``rngs`` argument passed to an apply function should be a ``jax.PRNGKey`` or a '
    'dictionary mapping strings to ``jax.PRNGKey``.')
