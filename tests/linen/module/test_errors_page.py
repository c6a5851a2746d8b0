"""The scope-level errors of the seeds' errors page, triggered through Linen as the page does.

Each message names the module path, the collection and the variable involved.
"""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

lecun = jax.nn.initializers.lecun_normal()
KEY = jax.random.PRNGKey(0)


class NoBiasDense(nn.Module):
  features: int = 8

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", lecun, (x.shape[-1], self.features))
    return jax.lax.dot_general(x, kernel, (((x.ndim - 1,), (0,)), ((), ())))


class Outer(nn.Module):
  @nn.compact
  def __call__(self, x):
    return NoBiasDense(name="inner")(x)


def test_scope_param_shape_error_names_path():
  variables = Outer().init(KEY, jnp.ones((5, 5, 1)))
  with pytest.raises(errors.ScopeParamShapeError) as e:
    Outer().apply(variables, jnp.ones((5, 5)))
  assert '"kernel"' in str(e.value) and '"/inner"' in str(e.value)
  assert "(1, 8)" in str(e.value) and "(5, 8)" in str(e.value)


def test_scope_param_not_found_error():
  class Embed(nn.Module):
    num_embeddings: int
    features: int

    @nn.compact
    def __call__(self, inputs, embed_name="embedding"):
      embedding = self.param(embed_name, lecun, (self.num_embeddings, self.features))
      return embedding[inputs.astype("int32")]

  model = Embed(4, 8)
  variables = model.init(KEY, jnp.ones((5, 5, 1)))
  with pytest.raises(errors.ScopeParamNotFoundError, match='"embed"'):
    model.apply(variables, jnp.ones((5, 5, 1)), "embed")


def test_scope_collection_not_found_when_params_passed_unwrapped():
  variables = Outer().init(KEY, jnp.ones((2, 3)))
  with pytest.raises(errors.ScopeCollectionNotFound) as e:
    Outer().apply({"inner": variables["params"]["inner"]}, jnp.ones((2, 3)))
  assert '"params"' in str(e.value) and '"/inner"' in str(e.value)


def test_scope_variable_not_found_error():
  class State(nn.Module):
    @nn.compact
    def __call__(self):
      return self.variable("state", "count", jnp.zeros, ()).value

  with pytest.raises(errors.ScopeVariableNotFoundError, match='"count"'):
    State().apply({"state": {"other": 1}})


def test_modify_scope_variable_error_names_everything():
  class MyModule(nn.Module):
    @nn.compact
    def __call__(self, x):
      var = self.variable("batch_stats", "mean", jnp.zeros, x.shape)
      var.value = var.value + x
      return x

  class Top(nn.Module):
    @nn.compact
    def __call__(self, x):
      return MyModule(name="bn")(x)

  v = Top().init(KEY, jnp.ones(2))
  with pytest.raises(errors.ModifyScopeVariableError) as e:
    Top().apply(v, jnp.ones(2))
  msg = str(e.value)
  assert '"mean"' in msg and '"/bn"' in msg and '"batch_stats"' in msg
  Top().apply(v, jnp.ones(2), mutable=["batch_stats"])


def test_invalid_scope_error_for_leaked_module():
  leaked = nn.apply(lambda m: m, NoBiasDense())({})
  with pytest.raises(errors.InvalidScopeError):
    leaked(jnp.ones((1, 2)))


def test_jax_transform_error_when_a_raw_transform_would_leak_a_tracer():
  class Bad(nn.Module):
    @nn.compact
    def __call__(self, x):
      count = self.variable('counts', 'n', lambda: jnp.zeros((3,)))

      def step(y):
        count.value = count.value + y.sum()  # a batched tracer into an outer scope
        return y

      return jax.vmap(step)(x)

  with pytest.raises(errors.JaxTransformError) as info:
    Bad().init(KEY, jnp.ones((3, 2)))
  assert 'counts/n' in ''.join(getattr(info.value, '__notes__', []))


def test_raw_jax_transform_that_leaks_nothing_works_as_in_the_reference():
  class Fine(nn.Module):
    @nn.compact
    def __call__(self, x):
      return jax.vmap(lambda y: NoBiasDense()(y))(x)

  v = Fine().init(KEY, jnp.ones((3, 2)))
  assert jax.tree_util.tree_map(jnp.shape, v)['params']['NoBiasDense_0']


def test_invalid_rng_error_missing_stream():
  class Bar(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.param("some_param", jax.nn.initializers.zeros, (1,))
      self.make_rng("dropout")
      return x

  v = Bar().init({"params": KEY, "dropout": KEY}, 1.0)
  with pytest.raises(errors.InvalidRngError, match="dropout"):
    Bar().apply(v, 1.0)
  Bar().apply(v, 1.0, rngs={"dropout": KEY})


def test_apply_scope_invalid_variables_errors_through_linen():
  v = Outer().init(KEY, jnp.ones((2, 3)))
  with pytest.raises(errors.ApplyScopeInvalidVariablesStructureError):
    Outer().apply({"params": v}, jnp.ones((2, 3)))
  with pytest.raises(errors.ApplyScopeInvalidVariablesTypeError):
    Outer().apply(jnp.ones(3), jnp.ones((2, 3)))
