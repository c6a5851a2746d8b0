"""nn.dtypes: computation dtype inference (canonicalize_dtype) and casting (promote_dtype)."""

import jax.numpy as jnp
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
