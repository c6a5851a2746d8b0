"""nn.dtypes: computation dtype inference (canonicalize_dtype) and casting (promote_dtype)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.linen import dtypes


@pytest.mark.parametrize('args, expected', [
  ((jnp.float32, jnp.float32), jnp.float32),
  ((jnp.bfloat16, jnp.float32), jnp.float32),
  ((jnp.bfloat16, jnp.bfloat16), jnp.bfloat16),
  ((jnp.int32, jnp.float32), jnp.float32),
  ((jnp.int32, jnp.float16), jnp.float16),
  ((jnp.int32,), jnp.float32),
  ((jnp.bool_,), jnp.float32),
  ((jnp.float32, jnp.complex64), jnp.complex64),
])
def test_inferred_dtype(args, expected):
  arrays = [jnp.ones((2,), dt) for dt in args]
  assert dtypes.canonicalize_dtype(*arrays) == expected


def test_none_entries_are_ignored():
  assert dtypes.canonicalize_dtype(None, jnp.ones(2, jnp.bfloat16), None) == jnp.bfloat16


def test_explicit_dtype_wins():
  assert dtypes.canonicalize_dtype(jnp.ones(2), dtype=jnp.bfloat16) == jnp.bfloat16


def test_explicit_integer_dtype_rejected_when_inexact():
  with pytest.raises(ValueError) as info:
    dtypes.canonicalize_dtype(jnp.ones(2), dtype=jnp.int32)
  assert str(info.value).startswith(f'Dtype must be inexact: {jnp.int32}')


def test_integer_allowed_when_not_inexact():
  assert dtypes.canonicalize_dtype(jnp.ones(2, jnp.int32), inexact=False) == jnp.int32


def test_promote_dtype_casts_and_keeps_none():
  x, k, b = dtypes.promote_dtype(jnp.ones(2, jnp.bfloat16), jnp.ones(3), None)
  assert x.dtype == jnp.float32 and k.dtype == jnp.float32 and b is None
  (only,) = dtypes.promote_dtype(jnp.ones(2), dtype=jnp.float16)
  assert only.dtype == jnp.float16


def test_public_module():
  assert dtypes.promote_dtype.__module__ == 'flaxen.linen.dtypes'


# --- the fast path (same-dtype strong arrays) must give what the general path gives


def test_weak_typed_operands_are_made_strong():
  weak = jnp.asarray(2.0)  # a weakly-typed float32 scalar
  assert weak.aval.weak_type
  (out,) = dtypes.promote_dtype(weak)
  assert out.dtype == jnp.float32 and not out.aval.weak_type
  # mixed with a strong bfloat16 array, the weak scalar does not widen the result
  x, s = dtypes.promote_dtype(jnp.ones(2, jnp.bfloat16), weak)
  assert x.dtype == s.dtype == jnp.bfloat16 and not s.aval.weak_type


def test_operand_already_in_target_dtype_is_returned_unchanged():
  x, k = jnp.ones((2, 3)), jnp.ones((3,))
  px, pk = dtypes.promote_dtype(x, k)
  assert px is x and pk is k
  (px,) = dtypes.promote_dtype(x, dtype=jnp.float32)  # a scalar type, not a np.dtype
  assert px is x


def test_numpy_and_python_operands_become_jax_arrays():
  x, s = dtypes.promote_dtype(np.ones(2, np.float32), 3)
  assert isinstance(x, jax.Array) and isinstance(s, jax.Array)
  assert x.dtype == s.dtype == jnp.float32


def test_integer_arrays_promote_with_float32():
  x, k = dtypes.promote_dtype(jnp.ones(2, jnp.int32), jnp.ones(2, jnp.int32))
  assert x.dtype == k.dtype == jnp.float32
  (i,) = dtypes.promote_dtype(jnp.ones(2, jnp.int32), inexact=False)
  assert i.dtype == jnp.int32


def test_traced_operands_bind_no_conversion():
  def f(x, k):
    return dtypes.promote_dtype(x, k)

  jaxpr = jax.make_jaxpr(f)(jnp.ones(2), jnp.ones(2))
  assert not jaxpr.jaxpr.eqns
  jaxpr = jax.make_jaxpr(f)(jnp.ones(2, jnp.bfloat16), jnp.ones(2))
  assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == ['convert_element_type']


def test_same_dtype_operands_skip_array_conversion(monkeypatch):
  # The per-layer-call cost: same-dtype strong operands need neither jnp.asarray nor
  # jnp.result_type (each ~20-40 us eagerly, several per layer call).
  x, k, b = jnp.ones((2, 3)), jnp.ones((3, 4)), jnp.ones((4,))

  def forbidden(*args, **kwargs):
    raise AssertionError('the general path ran')

  monkeypatch.setattr(jnp, 'asarray', forbidden)
  monkeypatch.setattr(jnp, 'result_type', forbidden)
  assert dtypes.canonicalize_dtype(x, k, None, b) == jnp.float32
  out = dtypes.promote_dtype(x, k, None, b)
  assert out[0] is x and out[1] is k and out[2] is None and out[3] is b
