"""Zero-copy decoding of large inputs: same results as the msgpack path, arrays as views.

The property that matters for untrusted input: for any bytes, the zero-copy path
either gives exactly what msgpack's path gives or declines (and msgpack's path
decides); it never accepts what msgpack's path refuses.
"""

import random

import msgpack
import numpy as np
import pytest

from flaxen import errors, serialization
from flaxen._src.serialization import array_decode, view_decode


def _same(a, b):
  assert type(a) is type(b), (type(a), type(b))
  if isinstance(a, dict):
    assert list(a) == list(b)
    for k in a:
      _same(a[k], b[k])
  elif isinstance(a, list):
    assert len(a) == len(b)
    for x, y in zip(a, b):
      _same(x, y)
  elif isinstance(a, np.ndarray):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
  elif isinstance(a, float) and a != a:
    assert b != b
  else:
    assert a == b


def _outcome(blob):
  try:
    return serialization.msgpack_restore(blob)
  except errors.MsgpackDecodeError as e:
    return e


def _big_tree():
  rng = np.random.default_rng(0)
  return {
    "layers": [{"kernel": rng.standard_normal((256, 300)).astype(np.float32),
                "bias": np.zeros(300, np.float32)} for _ in range(4)],
    "embed": rng.standard_normal((64, 1100)).astype(np.float32),
    "meta": {"step": 12, "neg": -3, "big": 2**63 + 5, "small": -(2**40), "pi": 3.25,
             "name": "run/ü", "raw": b"\x00\x01", "flags": [True, False, None],
             "scalar": np.float32(1.5), "z": 1 + 2j, "ints": list(range(20))},
  }


@pytest.fixture(scope="module")
def big_blob():
  blob = serialization.msgpack_serialize(_big_tree())
  assert len(blob) >= view_decode.MIN_INPUT
  return blob


def test_large_input_decodes_like_msgpack_path(big_blob):
  got = serialization.msgpack_restore(big_blob)  # zero-copy path (bytes, large)
  want = serialization.msgpack_restore(bytearray(big_blob))  # msgpack path
  _same(got, want)
  assert view_decode.decode_views(big_blob, array_decode.ExtHook()) is not None


def test_large_arrays_are_read_only_views_of_the_input(big_blob):
  got = serialization.msgpack_restore(big_blob)
  kernel = got["layers"][0]["kernel"]
  assert kernel.base is big_blob and not kernel.flags.writeable


def test_byte_flips_never_accepted_where_msgpack_path_refuses(big_blob):
  rng = random.Random(1)
  header_zone = [i for i in range(len(big_blob)) if i < 600 or i % 4099 == 0][:900]
  positions = rng.sample(header_zone, 250) + rng.sample(range(len(big_blob)), 50)
  for pos in positions:
    flipped = bytearray(big_blob)
    flipped[pos] ^= 1 << rng.randrange(8)
    got, want = _outcome(bytes(flipped)), _outcome(flipped)
    if isinstance(want, Exception):
      assert isinstance(got, errors.MsgpackDecodeError), pos
    else:
      _same(got, want)


def test_truncated_and_trailing_bytes(big_blob):
  for blob in (big_blob[:-1], big_blob + b"\x00"):
    assert view_decode.decode_views(blob, array_decode.ExtHook()) is None
    with pytest.raises(errors.MsgpackDecodeError):
      serialization.msgpack_restore(blob)


def test_many_small_items_are_left_to_msgpack():
  tree = {f"k{i}": [i, float(i), str(i)] for i in range(60000)}
  blob = msgpack.packb(tree)
  assert len(blob) >= view_decode.MIN_INPUT
  assert view_decode.decode_views(blob, array_decode.ExtHook()) is None
  _same(serialization.msgpack_restore(blob), tree)


def test_small_inputs_and_other_buffers_are_left_to_msgpack(big_blob):
  assert view_decode.decode_views(serialization.msgpack_serialize({"a": 1}),
                                  array_decode.ExtHook()) is None
  assert view_decode.decode_views(bytearray(big_blob), array_decode.ExtHook()) is None


def test_timestamps_and_unknown_extensions_go_through_msgpack():
  stamp = msgpack.Timestamp(5, 6)
  blob = msgpack.packb({"t": stamp, "pad": b"\x00" * view_decode.MIN_INPUT}, use_bin_type=True)
  got = serialization.msgpack_restore(blob)
  assert got["t"] == stamp
  unknown = msgpack.packb({"x": msgpack.ExtType(42, b"zz"), "pad": b"\x00" * view_decode.MIN_INPUT})
  with pytest.raises(errors.MsgpackDecodeError):
    serialization.msgpack_restore(unknown)
