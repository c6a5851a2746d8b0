"""init / init_with_output / apply / bind / unbind / lazy_init and the function forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import config, errors
from flaxen import linen as nn

zeros = jax.nn.initializers.zeros
normal = jax.nn.initializers.normal()


class AE(nn.Module):
  def setup(self):
    self.enc = Lin(3)
    self.dec = Lin(2)

  def __call__(self, x):
    return self.decode(self.encode(x))

  def encode(self, x):
    return self.enc(x)

  def decode(self, z):
    return self.dec(z)


class Lin(nn.Module):
  features: int

  @nn.compact
  def __call__(self, x):
    return x @ self.param("w", normal, (x.shape[-1], self.features))


class Stateful(nn.Module):
  @nn.compact
  def __call__(self, x):
    count = self.variable("counter", "n", lambda: jnp.zeros((), jnp.int32))
    if not self.is_initializing():
      count.value += 1
    return Lin(2)(x)


X = jnp.ones((1, 2))
KEY = jax.random.PRNGKey(0)


def test_init_returns_plain_dicts_and_frozen_with_flag():
  v = AE().init(KEY, X)
  assert type(v) is dict and type(v["params"]) is dict
  assert list(v["params"]) == ["enc", "dec"]
  with config.temp_flip_flag("return_frozendict", True):
    assert isinstance(AE().init(KEY, X), nn.FrozenDict)


def test_init_with_output():
  out, v = AE().init_with_output(KEY, X)
  np.testing.assert_allclose(out, AE().apply(v, X))


@pytest.mark.parametrize("method", ["encode", AE.encode, "method_bound", "fn"])
def test_apply_method_forms(method):
  v = AE().init(KEY, X)
  if method == "method_bound":
    method = AE().encode
  elif method == "fn":
    method = lambda m, x: m.encode(x)  # noqa: E731
  z = AE().apply(v, X, method=method)
  assert z.shape == (1, 3)


def test_apply_method_string_naming_setup_submodule():
  v = AE().init(KEY, X)
  assert AE().apply(v, X, method="enc").shape == (1, 3)


def test_init_method():
  v = AE().init(KEY, X, method="encode")
  assert list(v["params"]) == ["enc"]


def test_apply_non_callable_method_string():
  class M(nn.Module):
    size: int = 3

    def __call__(self):
      return 1

  with pytest.raises(TypeError, match="must be a callable"):
    M().apply({}, method="size")


def test_apply_module_invalid_method_error():
  with pytest.raises(errors.ApplyModuleInvalidMethodError):
    AE().apply({}, X, method=lambda: None)


def test_invalid_instance_module_error():
  with pytest.raises(errors.InvalidInstanceModuleError):
    AE.init(KEY, X)
  with pytest.raises(errors.InvalidInstanceModuleError):
    AE.apply({}, X)


def test_mutable_return_shapes():
  v = Stateful().init(KEY, X)
  assert list(v) == ["counter", "params"]
  with pytest.raises(errors.ModifyScopeVariableError):
    Stateful().apply(v, X)
  out, m = Stateful().apply(v, X, mutable=["counter"])
  assert list(m) == ["counter"] and int(m["counter"]["n"]) == 1
  out, m = Stateful().apply(v, X, mutable="counter")
  assert list(m) == ["counter"]
  out, m = Stateful().apply(v, X, mutable=True)
  assert list(m) == ["counter", "params"]
  assert out.shape == (1, 2)


def test_rngs_dict_or_bare_key_and_invalid():
  class Noisy(nn.Module):
    @nn.compact
    def __call__(self, x):
      return x + jax.random.normal(self.make_rng("dropout"), x.shape)

  a = Noisy().apply({}, X, rngs={"dropout": KEY})
  b = Noisy().apply({}, X, rngs=KEY)  # bare key: the params stream, used as fallback
  np.testing.assert_array_equal(a, b)
  with pytest.raises(errors.InvalidRngError, match='needs PRNG for "dropout"'):
    Noisy().apply({}, X)
  with pytest.raises(errors.InvalidRngError):
    Noisy().init(3, X)
  # a dict holding a non-key: the reference's plain ValueError from core apply
  with pytest.raises(ValueError, match=r'The ``rngs`` argument passed to an apply function'):
    Noisy().apply({}, X, rngs={"dropout": 3})


def test_typed_key_init_equals_raw():
  a = AE().init(jax.random.key(0), X)
  b = AE().init(jax.random.PRNGKey(0), X)
  np.testing.assert_array_equal(a["params"]["enc"]["w"], b["params"]["enc"]["w"])


def test_init_default_mutable_excludes_intermediates():
  class S(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.sow("intermediates", "h", x)
      self.sow("stats", "h", x)
      return x

  v = S().init(KEY, X)
  assert list(v) == ["stats"]


def test_capture_intermediates():
  v = AE().init(KEY, X)
  out, state = AE().apply(v, X, capture_intermediates=True, mutable=["intermediates"])
  inter = state["intermediates"]
  assert set(inter) == {"enc", "dec", "__call__"}
  np.testing.assert_allclose(inter["__call__"][0], out)
  _, state = AE().apply(v, X, capture_intermediates=lambda m, n: n == "encode")
  assert list(state["intermediates"]) == ["encode"]


def test_bind_and_unbind():
  v = AE().init(KEY, X)
  bound = AE().bind(v)
  np.testing.assert_allclose(bound(X), AE().apply(v, X))
  enc, enc_vars = bound.enc.unbind()
  assert enc.scope is None and enc.name is None
  np.testing.assert_allclose(enc.apply(enc_vars, X), bound.encode(X))
  with pytest.raises(errors.CallUnbindOnUnboundModuleError):
    AE().unbind()


def test_lazy_init():
  v = AE().lazy_init(KEY, jax.ShapeDtypeStruct((1, 2), jnp.float32))
  ref = AE().init(KEY, X)
  np.testing.assert_array_equal(v["params"]["dec"]["w"], ref["params"]["dec"]["w"])

  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      return x * self.param("kernel", lambda _: x)

  with pytest.raises(errors.LazyInitError):
    Foo().lazy_init(KEY, jax.ShapeDtypeStruct((8, 4), jnp.float32))


def test_function_forms():
  m = AE()
  v = nn.init(lambda mdl, x: mdl.encode(x), m)(KEY, X)
  assert list(v["params"]) == ["enc"]
  out, v2 = nn.init_with_output(lambda mdl, x: mdl(x), m)(KEY, X)
  assert out.shape == (1, 2)
  y = nn.apply(lambda mdl, x: mdl.decode(mdl.encode(x)), m)(v2, X)
  np.testing.assert_allclose(y, out)


def test_jit_of_apply():
  v = AE().init(KEY, X)
  np.testing.assert_allclose(jax.jit(AE().apply)(v, X), AE().apply(v, X), rtol=1e-6)


def test_variables_not_mutated_by_apply():
  v = Stateful().init(KEY, X)
  Stateful().apply(v, X, mutable=["counter"])
  assert int(v["counter"]["n"]) == 0


def test_module_without_call_raises_the_reference_attribute_error():
  class Foo(nn.Module):
    pass

  text = (
    '"Foo" object has no attribute "__call__". If "__call__" is defined in \'.setup()\', '
    "remember these fields are only accessible from inside 'init' or 'apply'.")
  with pytest.raises(AttributeError) as info:
    Foo().init(KEY)
  assert str(info.value) == text
  with pytest.raises(AttributeError) as info:
    Foo().apply({})
  assert str(info.value) == text


def test_init_with_an_invalid_key_dict_names_the_accepted_forms():
  with pytest.raises(ValueError, match=r'should be a ``jax\.PRNGKey`` or a dictionary'):
    AE().init({'params': 'test'}, X)
