"""Key derivation: SHA-1 of the path and counter, folded in once."""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import config
from flaxen.core.scope import LazyRng


def expected(key, *parts, sep=False):
  m = hashlib.sha1()
  for p in parts:
    if sep:
      m.update(b"\x00")
    m.update(p.encode() if isinstance(p, str) else p.to_bytes((p.bit_length() + 7) // 8, "big"))
  return jax.random.fold_in(key, jnp.uint32(int.from_bytes(m.digest()[:4], "big")))


def test_fold_matches_rule():
  key = jax.random.PRNGKey(0)
  got = LazyRng.create(key, "Dense_0", "inner", 3).as_jax_rng()
  np.testing.assert_array_equal(got, expected(key, "Dense_0", "inner", 3))


def test_empty_suffix_is_identity():
  key = jax.random.PRNGKey(5)
  assert LazyRng.create(key).as_jax_rng() is key


def test_large_counter_and_unicode():
  key = jax.random.PRNGKey(1)
  got = LazyRng.create(key, "ü", 300).as_jax_rng()
  np.testing.assert_array_equal(got, expected(key, "ü", 300))


def test_separator_flag():
  key = jax.random.PRNGKey(0)
  with config.temp_flip_flag("fix_rng_separator", True):
    a = LazyRng.create(key, "ab", "c").as_jax_rng()
    b = LazyRng.create(key, "a", "bc").as_jax_rng()
    np.testing.assert_array_equal(a, expected(key, "ab", "c", sep=True))
  assert not np.array_equal(a, b)
  np.testing.assert_array_equal(
    LazyRng.create(key, "ab", "c").as_jax_rng(), LazyRng.create(key, "a", "bc").as_jax_rng()
  )


def test_typed_keys_give_same_bits():
  raw = LazyRng.create(jax.random.PRNGKey(3), "x", 1).as_jax_rng()
  typed = LazyRng.create(jax.random.key(3), "x", 1).as_jax_rng()
  np.testing.assert_array_equal(jax.random.key_data(typed), raw)


def test_clear_suffix_and_nesting():
  key = jax.random.PRNGKey(0)
  lazy = LazyRng.create(LazyRng.create(key, "a"), "b")
  assert lazy.suffix == ("a", "b")
  cleared = lazy.clear_suffix()
  assert cleared.suffix == () and cleared.rng is key
  leaves, treedef = jax.tree_util.tree_flatten(lazy)
  assert len(leaves) == 1 and jax.tree_util.tree_unflatten(treedef, leaves).suffix == ("a", "b")


def test_many_keys_use_same_bits_after_switch_to_jitted_fold():
  key = jax.random.PRNGKey(9)
  for i in range(1, 300):  # past the eager-only warm-up of the process
    got = LazyRng.create(key, "layer", i).as_jax_rng()
  np.testing.assert_array_equal(got, expected(key, "layer", 299))
  typed = LazyRng.create(jax.random.key(9), "layer", 299).as_jax_rng()
  np.testing.assert_array_equal(jax.random.key_data(typed), got)


def test_tree_map_rngs_maps_typed_keys_only():
  from flaxen.core import lift

  tree = {'k': jax.random.key(0), 'raw': jax.random.PRNGKey(0), 'x': jnp.ones(2)}
  out = lift.tree_map_rngs(lambda k: jax.random.split(k, 3), tree)
  assert out['k'].shape == (3,)
  assert out['raw'] is tree['raw'] and out['x'] is tree['x']
