"""lazy_init: variables from abstract inputs; LazyInitError when values are needed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen.core import init, lazy_init

normal = jax.nn.initializers.normal()


def f(scope, x):
  w = scope.param("w", normal, (x.shape[-1], 3))
  return x @ w


def test_lazy_init_matches_init():
  x = jax.ShapeDtypeStruct((2, 4), jnp.float32)
  v = lazy_init(f)(jax.random.PRNGKey(0), x)
  _, ref = init(f)(jax.random.PRNGKey(0), jnp.ones((2, 4)))
  np.testing.assert_array_equal(v["params"]["w"], ref["params"]["w"])


def test_lazy_init_error_when_value_needed():
  def g(scope, x):
    return scope.param("k", lambda _: x)

  with pytest.raises(errors.LazyInitError):
    lazy_init(g)(jax.random.PRNGKey(0), jax.ShapeDtypeStruct((8, 4), jnp.float32))


# --- Module models: bit-identical to init, which way was taken, reference semantics

from flaxen import linen as nn  # noqa: E402
from flaxen._src.core import partial_eval as pe_lib  # noqa: E402

KEY = jax.random.PRNGKey(0)


def _same(a, b):
  la, ta = jax.tree_util.tree_flatten(a)
  lb, tb = jax.tree_util.tree_flatten(b)
  assert ta == tb
  for x, y in zip(la, lb):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture
def general_way(monkeypatch):
  """Records whether lazy_init fell back to JAX's partial evaluation."""
  used = []
  original = pe_lib._partial_eval

  def spy(*args):
    used.append(True)
    return original(*args)

  monkeypatch.setattr(pe_lib, "_partial_eval", spy)
  return used


class Block(nn.Module):
  @nn.compact
  def __call__(self, x, train=False):
    y = nn.LayerNorm()(x)
    y = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8)(y)
    y = nn.Dense(8, kernel_init=nn.with_partitioning(nn.initializers.lecun_normal(), (None, "mlp")))(y)
    y = nn.BatchNorm(use_running_average=not train)(y)
    return x + nn.Dropout(0.1, deterministic=not train)(y)


class Net(nn.Module):
  @nn.compact
  def __call__(self, tokens):
    x = nn.Embed(50, 8)(tokens)
    x = x + self.param("pos", nn.initializers.normal(0.02), (1, tokens.shape[-1], 8))
    x = nn.Conv(8, (3,))(Block()(x))
    return nn.Dense(50)(x)


def test_layers_take_the_record_way_and_match_init(general_way):
  tokens = jnp.ones((2, 5), jnp.int32)
  want = Net().init(KEY, tokens)
  got = Net().lazy_init(KEY, jax.ShapeDtypeStruct(tokens.shape, tokens.dtype))
  _same(got, want)
  assert isinstance(got["params"]["Block_0"]["Dense_0"]["kernel"], nn.Partitioned)
  assert not general_way  # JAX's initializers were noted and created afterwards


def test_scanned_layers(general_way):
  class Layer(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      return nn.Dense(4)(x), None

  class Stack(nn.Module):
    @nn.compact
    def __call__(self, x):
      scan = nn.scan(Layer, variable_axes={"params": 0}, split_rngs={"params": True},
                     in_axes=nn.broadcast, length=3)
      return scan()(x, None)[0]

  x = jnp.ones((2, 4))
  want = Stack().init(KEY, x)
  got = Stack().lazy_init(KEY, jax.ShapeDtypeStruct(x.shape, x.dtype))
  _same(got, want)
  assert got["params"]["ScanLayer_0"]["Dense_0"]["kernel"].shape == (3, 4, 4)
  assert general_way  # a lifted transform: JAX's partial evaluation


def test_initializers_closing_over_a_loop_variable_run_when_called():
  class Late(nn.Module):
    @nn.compact
    def __call__(self, x):
      for i in range(3):  # each lambda sees the *current* i only if called right away
        x = x + self.param(f"w{i}", lambda key, shape: jnp.full(shape, float(i)), x.shape)  # noqa: B023
      return x

  x = jnp.ones((2, 3))
  got = Late().lazy_init(KEY, jax.ShapeDtypeStruct(x.shape, x.dtype))
  _same(got, Late().init(KEY, x))
  assert float(got["params"]["w0"][0, 0]) == 0.0 and float(got["params"]["w2"][0, 0]) == 2.0


def test_python_control_flow_on_a_parameter_value():
  class Branch(nn.Module):
    @nn.compact
    def __call__(self, x):
      w = self.param("w", nn.initializers.normal(), (1, 4))
      if w.sum() > -100:  # a known value: computable while initializing lazily
        self.param("b", nn.initializers.zeros, (2,))
      return x * w

  got = Branch().lazy_init(KEY, jax.ShapeDtypeStruct((8, 4), jnp.float32))
  _same(got, Branch().init(KEY, jnp.ones((8, 4))))
  assert set(got["params"]) == {"w", "b"}


def test_states_updated_while_initializing():
  class Count(nn.Module):
    @nn.compact
    def __call__(self, x):
      c = self.variable("state", "count", lambda: jnp.zeros((), jnp.int32))
      c.value += 1
      self.variable("state", "mean", lambda: jnp.zeros(x.shape[-1:]))
      return x

  got = Count().lazy_init(KEY, jax.ShapeDtypeStruct((8, 4), jnp.float32))
  assert int(got["state"]["count"]) == 1 and got["state"]["mean"].shape == (4,)


def test_state_from_an_input_value_is_a_lazy_init_error():
  class Dep(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.variable("state", "mean", lambda: x.mean(0))
      return x

  with pytest.raises(errors.LazyInitError, match=r"shape: float32\[4\]"):
    Dep().lazy_init(KEY, jax.ShapeDtypeStruct((8, 4), jnp.float32))


def test_concrete_inputs_mixed_with_abstract_ones():
  def h(scope, x, n):
    w = scope.param("w", normal, (x.shape[-1], n.shape[0]))
    return x @ w + n[None]

  n = jnp.arange(3.0)
  got = lazy_init(h)(KEY, jax.ShapeDtypeStruct((2, 4), jnp.float32), n)
  _, want = init(h)(KEY, jnp.ones((2, 4)), n)
  _same(got, want)
