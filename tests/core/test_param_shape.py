"""The apply-time param shape check, including its per-initializer cache."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen.core import apply, init

lecun = jax.nn.initializers.lecun_normal()


def f(scope, x):
  return x @ scope.param("k", lecun, (x.shape[-1], 2))


def test_cached_check_still_detects_mismatch():
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  for _ in range(3):  # repeated calls hit the cache
    apply(f)(v, jnp.ones((1, 3)))
  with pytest.raises(errors.ScopeParamShapeError):
    apply(f)(v, jnp.ones((1, 4)))


def test_unhashable_init_args_are_checked_without_cache():
  def g(scope, target):
    return scope.param("w", lambda key, t: jnp.zeros_like(t), target)

  _, v = init(g)(jax.random.PRNGKey(0), jnp.ones(3))
  apply(g)(v, jnp.ones(3))
  with pytest.raises(errors.ScopeParamShapeError):
    apply(g)(v, jnp.ones(4))


# --- keyless initializers: the draw is counted, the key is not derived


def _count_folds(monkeypatch):
  from flaxen._src.core import rng as rng_lib

  folds = []
  original = rng_lib.fold_in_static

  def counting(key, suffix):
    folds.append(tuple(suffix))
    return original(key, suffix)

  monkeypatch.setattr(rng_lib, "fold_in_static", counting)
  return folds


def g3(scope, x):
  b = scope.param("b", jax.nn.initializers.zeros, (2,))
  s = scope.param("s", jax.nn.initializers.ones, (2,))
  k = scope.param("k", lecun, (x.shape[-1], 2))  # the 3rd draw of this scope
  return (x @ k)[0] * s + b


def test_zeros_and_ones_derive_no_key(monkeypatch):
  folds = _count_folds(monkeypatch)
  _, v = init(g3)(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert folds == [(3,)]  # only the kernel's key is derived, from the 3rd draw
  assert (v["params"]["b"] == 0).all() and (v["params"]["s"] == 1).all()
  want = lecun(jax.random.fold_in(jax.random.PRNGKey(0), _draw_word(3)), (3, 2))
  assert (v["params"]["k"] == want).all()


def _draw_word(*parts):
  import hashlib

  import numpy as np

  digest = hashlib.sha1()
  for part in parts:
    digest.update(part.to_bytes(-(-part.bit_length() // 8), "big"))
  return np.uint32(int.from_bytes(digest.digest()[:4], "big"))


def test_keyless_initializer_seen_through_layer_wrapper(monkeypatch):
  from flaxen import linen as nn

  folds = _count_folds(monkeypatch)
  v = nn.DenseGeneral((2, 2)).init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert len(folds) == 1  # the kernel; the (reshaped) zeros bias derives no key
  assert v["params"]["bias"].shape == (2, 2) and not v["params"]["bias"].any()


def test_keyless_param_still_needs_a_params_stream():
  def only_bias(scope):
    return scope.param("b", jax.nn.initializers.zeros, (2,))

  with pytest.raises(errors.InvalidRngError):
    init(only_bias)({"dropout": jax.random.PRNGKey(0)})
