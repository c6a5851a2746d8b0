"""Scope: collections, child scopes, names, variables, params and RNG streams."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import config, errors
from flaxen.core import Scope, apply, bind, init
from flaxen.core.scope import LazyRng

zeros = jax.nn.initializers.zeros
normal = jax.nn.initializers.normal()


def test_param_created_once_and_read_back():
  def f(scope, x):
    w = scope.param("w", normal, (x.shape[-1], 2))
    return x @ w

  y, variables = init(f)(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert variables["params"]["w"].shape == (3, 2)
  np.testing.assert_allclose(apply(f)(variables, jnp.ones((1, 3))), y)


def test_param_key_is_first_make_rng():
  def f(scope):
    return scope.param("w", lambda k, s: jax.random.normal(k, s), (2,))

  w, _ = init(f)(jax.random.PRNGKey(0))
  expected = LazyRng.create(jax.random.PRNGKey(0), 1).as_jax_rng()
  np.testing.assert_array_equal(w, jax.random.normal(expected, (2,)))


def test_child_scopes_nest_and_keep_creation_order():
  def f(scope):
    scope.variable("state", "s", jnp.zeros, ())
    child = scope.push("child")
    child.param("b", zeros, (1,))
    child.param("a", zeros, (1,))
    scope.param("top", zeros, (1,))
    return child.path, child.path_text

  (path, text), v = init(f)(jax.random.PRNGKey(0))
  assert path == ("child",) and text == "/child"
  assert list(v) == ["state", "params"]
  assert list(v["params"]) == ["child", "top"]
  assert list(v["params"]["child"]) == ["b", "a"]


def test_reserve_and_default_name():
  s = Scope({})
  s.reserve("x")
  with pytest.raises(ValueError, match="Duplicate use of scope name"):
    s.reserve("x")
  with pytest.raises(TypeError):
    s.reserve(3)
  assert s.default_name("x") == "x0"
  s.reserve("y0")
  assert s.default_name("y") == "y1"
  assert s.push(prefix="y").name == "y1"


def test_relaxed_naming_allows_same_name_in_two_collections():
  s = Scope({}, mutable=True)
  s.reserve("mean", "params")
  assert not s.name_reserved("mean", "stats")
  assert s.name_reserved("mean")
  with config.temp_flip_flag("relaxed_naming", False):
    assert s.name_reserved("mean", "stats")


def test_push_reuse_continues_counters():
  s = Scope({}, rngs={"noise": jax.random.PRNGKey(0)})
  a = s.push("c")
  k1 = a.make_rng("noise")
  b = s.push("c", reuse=True)
  k2 = b.make_rng("noise")
  np.testing.assert_array_equal(k1, LazyRng.create(jax.random.PRNGKey(0), "c", 1).as_jax_rng())
  np.testing.assert_array_equal(k2, LazyRng.create(jax.random.PRNGKey(0), "c", 2).as_jax_rng())


def test_scope_equality_follows_variables_path_and_counters():
  s = Scope({}, rngs={"params": jax.random.PRNGKey(0)})
  r = s.rewound()
  assert r == s and hash(r) == hash(s) and r is not s
  assert s.rewound(rewind_rngs=True) != s
  assert s.push("a") != s and len({s, r}) == 1


def test_rewound_clears_names_keeps_counters():
  s = Scope({}, rngs={"params": jax.random.PRNGKey(0)})
  s.reserve("a")
  s.make_rng()
  r = s.rewound()
  assert not r.name_reserved("a")
  assert r.rng_counters["params"] == 1
  assert s.rewound(rewind_rngs=True).rng_counters["params"] == 0


def test_make_rng_falls_back_to_params_and_missing_raises():
  s = Scope({}, rngs={"params": jax.random.PRNGKey(0)})
  k = s.make_rng("dropout")
  np.testing.assert_array_equal(k, LazyRng.create(jax.random.PRNGKey(0), 1).as_jax_rng())
  assert s.rng_counters["params"] == 1
  assert s.has_rng("params") and not s.has_rng("dropout")
  with pytest.raises(errors.InvalidRngError, match='needs PRNG for "dropout"'):
    Scope({}).make_rng("dropout")


def test_variable_handle_reads_and_writes():
  def f(scope):
    v = scope.variable("state", "count", lambda: jnp.zeros((), jnp.int32))
    v.value += 1
    assert v.is_mutable()
    return v.value

  out, variables = init(f)(jax.random.PRNGKey(0))
  assert out == 1 and variables["state"]["count"] == 1
  out, mutated = apply(f, mutable="state")(variables)
  assert out == 2 and mutated["state"]["count"] == 2
  assert variables["state"]["count"] == 1  # the caller's dict is not written


def test_put_variable_merges_subdicts():
  s = Scope({"c": {"a": {"x": 1}}}, mutable=True)
  child = s.push("a")
  assert child.get_variable("c", "x") == 1
  s.put_variable("c", "a", {"y": 2})
  assert child.get_variable("c", "y") == 2
  assert s.variables()["c"] == {"a": {"x": 1, "y": 2}}


def test_get_has_variable_and_collection_empty():
  s = Scope({"params": {"w": 1}})
  assert s.has_variable("params", "w") and not s.has_variable("params", "v")
  assert s.get_variable("params", "v", 7) == 7
  assert s.is_collection_empty("stats") and not s.is_collection_empty("params")


def test_flags_and_is_mutable():
  s = Scope({}, mutable=["a"], flags={"initializing": True})
  assert s.is_mutable_collection("a") and not s.is_mutable_collection("b")
  assert s.get_flag("initializing") and s.has_flag("initializing")
  assert s.push("x").get_flag("initializing")


def test_child_helper():
  def dense(scope, x, features):
    return x @ scope.param("w", zeros, (x.shape[-1], features))

  def f(scope, x):
    return scope.child(dense, features=2)(x)

  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert list(v["params"]) == ["dense_0"]


def test_mutable_variables_only_mutable_collections():
  def f(scope):
    scope.variable("a", "x", lambda: 1)
    scope.param("w", zeros, (1,))

  _, v = init(f)(jax.random.PRNGKey(0))
  _, m = apply(f, mutable="a")(v)
  assert list(m) == ["a"]


def test_return_frozendict_flag():
  from flaxen.core import FrozenDict

  def f(scope):
    scope.param("w", zeros, (1,))

  with config.temp_flip_flag("return_frozendict", True):
    _, v = init(f)(jax.random.PRNGKey(0))
  assert isinstance(v, FrozenDict)
  _, v = init(f)(jax.random.PRNGKey(0))
  assert type(v) is dict


# ------------------------------------------------------------------ errors


def test_scope_param_shape_error():
  def f(scope, x):
    return scope.param("kernel", normal, (x.shape[-1], 8))

  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((5, 1)))
  with pytest.raises(errors.ScopeParamShapeError, match='"kernel" in "/"') as e:
    apply(f)(v, jnp.ones((5, 5)))
  # as the reference: value_shape is the stored one, init_shape what the initializer gives now
  assert e.value.value_shape == (1, 8) and e.value.init_shape == (5, 8)
  assert 'expected to generate shape (5, 8), but the existing parameter it received has ' \
    'shape (1, 8).' in str(e.value)


def test_scope_param_not_found_error():
  def f(scope, name):
    return scope.param(name, zeros, (1,))

  _, v = init(f)(jax.random.PRNGKey(0), "embedding")
  with pytest.raises(errors.ScopeParamNotFoundError, match="embed"):
    apply(f)(v, "embed")


def test_scope_collection_not_found():
  def f(scope):
    return scope.param("w", zeros, (1,))

  with pytest.raises(errors.ScopeCollectionNotFound, match='"params"'):
    apply(f)({})


def test_scope_variable_not_found():
  def f(scope):
    return scope.variable("state", "missing", jnp.zeros, ()).value

  with pytest.raises(errors.ScopeVariableNotFoundError, match="missing"):
    apply(f)({"state": {"other": 1}})


def test_modify_scope_variable_error():
  def f(scope):
    v = scope.variable("batch_stats", "mean", jnp.zeros, ())
    v.value = v.value + 1

  _, v = init(f)(jax.random.PRNGKey(0))
  with pytest.raises(errors.ModifyScopeVariableError, match='"batch_stats"'):
    apply(f)(v)


def test_invalid_scope_error():
  with Scope({}).temporary() as root:
    pass
  with pytest.raises(errors.InvalidScopeError):
    root.push("x")


def test_jax_transform_error():
  def f(scope, x):
    return jax.jit(lambda y: scope.param("w", zeros, (1,)) + y)(x)

  with pytest.raises(errors.JaxTransformError):
    init(f)(jax.random.PRNGKey(0), jnp.ones(1))


def test_apply_invalid_variables_type_and_structure():
  f = lambda scope: None  # noqa: E731
  with pytest.raises(errors.ApplyScopeInvalidVariablesTypeError):
    apply(f)({"params": 3})
  with pytest.raises(errors.ApplyScopeInvalidVariablesTypeError):
    apply(f)([1])
  with pytest.raises(errors.ApplyScopeInvalidVariablesStructureError):
    apply(f)({"params": {"params": {"w": 1}}})


def test_invalid_rngs():
  f = lambda scope: None  # noqa: E731
  with pytest.raises(ValueError, match='argument passed to an apply function'):
    apply(f)({}, rngs={"params": 3})
  with pytest.raises(errors.InvalidRngError):  # bind has no apply-level check before it
    bind({}, rngs={"params": 3})
  with pytest.raises(ValueError):
    init(f)(3)


def test_root_scope_is_freed_without_the_cycle_collector():
  # a root scope does not refer to itself (its root is computed), so a scope tree and the
  # values in it die by reference counting, e.g. the traced values of a jitted/vmapped init
  import gc
  import weakref

  gc.disable()
  try:
    root = bind({"params": {"b": jnp.ones(2)}}, rngs={"params": jax.random.PRNGKey(0)})
    child = root.push("child")
    assert root.root is root and child.root is root
    refs = weakref.ref(root), weakref.ref(child)
    del root, child
    assert refs[0]() is None and refs[1]() is None
  finally:
    gc.enable()


def test_no_tracer_leaks_from_init_and_apply_under_vmap(monkeypatch):
  import gc

  def f(scope, x):
    return x @ scope.param("w", jax.nn.initializers.lecun_normal(), (x.shape[-1], 3))

  @jax.jit
  def run(keys, x):
    def one(key):
      _, v = init(f)(key, x)
      return apply(f)(v, x)
    return jax.vmap(one)(keys)

  monkeypatch.setattr(gc, "collect", lambda *a: 0)  # as the reference's leak test does
  gc.disable()
  try:
    with jax.checking_leaks():
      for _ in range(2):
        run(jax.random.split(jax.random.PRNGKey(0), 4), jnp.ones((2, 5))).block_until_ready()
  finally:
    gc.enable()
