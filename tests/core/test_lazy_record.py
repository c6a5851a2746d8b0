"""The record pass of lazy_init: which initializers are noted, placeholders, the plan."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen._src.core import lazy_record
from flaxen._src.core.rng import LazyRng

KEY = jax.random.PRNGKey(0)
lecun = jax.nn.initializers.lecun_normal()


def _in_trace(fn):
  """Runs ``fn(recorder)`` inside an abstract trace, as lazy_init's record pass does."""
  recorder = lazy_record.Recorder()
  result = []

  def body():
    result.append(fn(recorder))
    return ()

  jax.make_jaxpr(body)()
  return recorder, result[0]


def test_jax_initializers_are_noted_and_created_later():
  def body(rec):
    placeholder = rec.param(LazyRng(KEY, ("w", 1)), lecun, ((3, 2), jnp.float32), {})
    assert isinstance(placeholder, jax.core.Tracer) and placeholder.shape == (3, 2)
    return rec.plan({"w": placeholder, "n": np.arange(2)})

  rec, (tree, slots) = _in_trace(body)
  out = lazy_record.build(tree, slots, rec.create())
  want = lecun(LazyRng(KEY, ("w", 1)).as_jax_rng(), (3, 2), jnp.float32)
  np.testing.assert_array_equal(out["w"], want)
  np.testing.assert_array_equal(out["n"], np.arange(2))


def test_other_initializers_run_at_once_with_their_key():
  seen = []

  def mine(key, shape):
    seen.append(key)
    return jnp.full(shape, 7.0)

  def body(rec):
    value = rec.param(LazyRng(KEY, ("m", 1)), mine, ((2,),), {})
    assert not isinstance(value, jax.core.Tracer)  # concrete, computed now
    return value

  rec, value = _in_trace(body)
  assert not rec.calls and len(seen) == 1
  np.testing.assert_array_equal(seen[0], LazyRng(KEY, ("m", 1)).as_jax_rng())
  np.testing.assert_array_equal(value, jnp.full((2,), 7.0))


def test_traced_arguments_are_not_recordable():
  def body(rec):
    traced = jnp.ones(3) * 2  # staged: a tracer
    with pytest.raises(lazy_record.NotRecordable):
      rec.param(LazyRng(KEY, ("w", 1)), lecun, (traced.shape, jnp.float32), {"x": traced})
    return rec

  rec, _ = _in_trace(body)
  assert rec.failed


def test_output_computed_in_the_trace_is_not_recordable():
  def body(rec):
    placeholder = rec.param(LazyRng(KEY, ("w", 1)), lecun, ((3, 2), jnp.float32), {})
    with pytest.raises(lazy_record.NotRecordable):
      rec.plan({"w": placeholder * 2})
    return rec

  rec, _ = _in_trace(body)
  assert rec.failed


def test_not_recordable_escapes_except_exception():
  assert not issubclass(lazy_record.NotRecordable, Exception)


def test_variables_are_evaluated_now():
  def body(rec):
    value = rec.variable(lambda s: jnp.zeros(s), ((2, 2),), {})
    assert not isinstance(value, jax.core.Tracer)
    return value

  _, value = _in_trace(body)
  assert value.shape == (2, 2)
