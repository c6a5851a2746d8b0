"""Decoding array payloads: the remembered-header fast paths keep every check."""

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors, serialization


def _swap(blob: bytes, old: bytes, new: bytes) -> bytes:
  assert blob.count(old) >= 1 and len(old) == len(new)
  return blob.replace(old, new)


def test_same_payload_length_different_headers_decode_to_their_own_dtype():
  # float32[4], int32[4] and uint8[16] payloads have the same data length: the header
  # remembered for one must never be used for the others.
  tree = {"a": np.arange(4, dtype=np.float32), "b": np.arange(4, dtype=np.int32),
          "c": np.arange(16, dtype=np.uint8), "d": np.arange(4, dtype=np.float32) + 1}
  out = serialization.msgpack_restore(serialization.msgpack_serialize(tree))
  for k, v in tree.items():
    assert out[k].dtype == v.dtype and out[k].shape == v.shape
    np.testing.assert_array_equal(out[k], v)


def test_many_equal_leaves_then_a_tampered_header_is_still_checked():
  tree = {f"x{i:03d}": jnp.full((4,), i, jnp.float32) for i in range(50)}
  blob = serialization.to_bytes(tree)
  restored = serialization.from_bytes(tree, blob)
  np.testing.assert_array_equal(restored["x049"], np.full((4,), 49, np.float32))
  # the last leaf claims an unsupported dtype of the same name length: refused
  tampered = blob[: blob.rindex(b"float32")] + b"object\x00" + blob[blob.rindex(b"float32") + 7:]
  with pytest.raises(errors.MsgpackDecodeError):
    serialization.msgpack_restore(tampered)


def test_encoded_bytes_of_jax_and_numpy_leaves_are_the_reference_layout():
  a = np.arange(3, dtype=np.float32)
  blob = serialization.msgpack_serialize({"j": jnp.asarray(a), "n": a})
  # both leaves: ext 1, [shape, dtype name, bin data]
  half = serialization.msgpack_serialize({"n": a})
  assert blob.endswith(half[2:]) and blob.count(a.tobytes()) == 2
