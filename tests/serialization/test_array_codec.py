"""Array / scalar / complex extension payloads, checked against an independent encoding.

``spec_bytes`` builds the documented wire format (golden README, "serialization/")
with msgpack's own packer: ext 1 ``[shape, dtype name, C-order bytes]``, ext 3
for numpy scalars, ext 2 ``[real, imag]`` for complex. The library streams its
output piece by piece and must produce exactly these bytes.
"""

import time
import tracemalloc

import hypothesis.extra.numpy as hnp
import jax.numpy as jnp
import ml_dtypes
import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flaxen import serialization


def _ext(code, arr):
  arr = np.asarray(arr)
  payload = msgpack.packb((list(arr.shape), arr.dtype.name, arr.tobytes('C')), use_bin_type=True)
  return msgpack.ExtType(code, payload)


def _spec(x):
  if isinstance(x, dict):
    return {k: _spec(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [_spec(v) for v in x]
  if isinstance(x, np.generic):
    return _ext(3, x)
  if isinstance(x, (np.ndarray, type(jnp.zeros(())))):
    return _ext(1, x)
  if isinstance(x, complex):
    return msgpack.ExtType(2, msgpack.packb([x.real, x.imag]))
  return x


def spec_bytes(tree):
  return msgpack.packb(_spec(tree), use_bin_type=True)


ML_DTYPES = [
  ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, ml_dtypes.float8_e4m3fnuz,
  ml_dtypes.float8_e5m2fnuz, ml_dtypes.float8_e4m3b11fnuz, ml_dtypes.int4, ml_dtypes.uint4,
]  # fmt: skip

numeric = st.one_of(
  hnp.boolean_dtypes(), hnp.integer_dtypes(endianness='='), hnp.unsigned_integer_dtypes(endianness='='),
  hnp.floating_dtypes(endianness='='), hnp.complex_number_dtypes(endianness='='),
)  # fmt: skip
arrays = hnp.arrays(numeric, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))


@settings(max_examples=150, deadline=None)
@given(arrays, st.sampled_from(['none', 'transpose', 'stride', 'fortran']))
def test_numpy_arrays_match_spec_and_round_trip(arr, layout):
  if layout == 'transpose':
    arr = arr.T
  elif layout == 'stride' and arr.ndim:
    arr = arr[..., ::2]
  elif layout == 'fortran':
    arr = np.asfortranarray(arr)
  data = serialization.msgpack_serialize({'a': arr})
  assert data == spec_bytes({'a': arr})
  out = serialization.msgpack_restore(data)['a']
  assert type(out) is np.ndarray and out.dtype == arr.dtype and out.shape == arr.shape
  assert out.tobytes() == arr.tobytes()


@pytest.mark.parametrize('dtype', ML_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize('shape', [(), (0,), (3,), (2, 5), (4, 1, 3)])
def test_ml_dtypes_by_name(dtype, shape):
  arr = (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) % 7 - 3).astype(dtype)
  data = serialization.msgpack_serialize([arr])
  assert data == spec_bytes([arr])
  assert np.dtype(dtype).name.encode() in data
  out = serialization.msgpack_restore(data)[0]
  assert out.dtype == np.dtype(dtype) and out.shape == shape and out.tobytes() == arr.tobytes()


def test_jax_arrays_encode_like_numpy_and_restore_as_numpy():
  x = jnp.linspace(-1, 1, 6, dtype=jnp.bfloat16).reshape(2, 3)
  data = serialization.msgpack_serialize({'x': x})
  assert data == serialization.msgpack_serialize({'x': np.asarray(x)})
  out = serialization.msgpack_restore(data)['x']
  assert type(out) is np.ndarray and out.dtype == jnp.bfloat16
  np.testing.assert_array_equal(out, np.asarray(x))


@pytest.mark.parametrize(
  'value',
  [np.float32(1.5), np.float64(-2.0), np.int8(-3), np.uint64(2**63), np.bool_(True),
   np.complex64(1 - 2j), ml_dtypes.bfloat16(0.5), np.float16(0.1)],
  ids=lambda v: type(v).__name__,
)  # fmt: skip
def test_numpy_scalars_use_ext_3(value):
  data = serialization.msgpack_serialize({'s': value})
  assert data == spec_bytes({'s': value})
  out = serialization.msgpack_restore(data)['s']
  assert isinstance(out, np.generic) and out.dtype == np.asarray(value).dtype
  assert np.asarray(out).tobytes() == np.asarray(value).tobytes()


def test_python_float_is_native_but_numpy_float64_is_not():
  assert serialization.msgpack_serialize(2.5) == msgpack.packb(2.5)
  assert serialization.msgpack_serialize(np.float64(2.5))[0] == 0xC7  # ext 8
  assert type(serialization.msgpack_restore(serialization.msgpack_serialize(np.float64(2.5)))) is np.float64


@given(st.complex_numbers(allow_nan=False))
@settings(max_examples=50, deadline=None)
def test_complex_uses_ext_2(z):
  data = serialization.msgpack_serialize([z])
  assert data == spec_bytes([z])
  assert serialization.msgpack_restore(data) == [z]


def test_fixext_16_payload():
  # [[6], "bool", bin 6] is exactly 16 bytes long: msgpack uses fixext 16 for it
  arr = np.array([True, False, True, True, False, True, False, True])[:6]
  data = serialization.msgpack_serialize(arr)
  assert data[0] == 0xD8 and len(data) == 18
  assert data == spec_bytes(arr)


def test_big_endian_arrays_are_written_in_native_order():
  arr = np.arange(4, dtype='>f4')
  data = serialization.msgpack_serialize(arr)
  assert data == spec_bytes(arr.astype('=f4'))
  np.testing.assert_array_equal(serialization.msgpack_restore(data), arr)


@pytest.mark.parametrize(
  'arr', [np.array([object()]), np.array(['ab']), np.array([b'x']), np.zeros(2, 'V4'),
          np.zeros(2, [('a', 'f4'), ('b', 'i4')])],
  ids=['object', 'str', 'bytes', 'void', 'structured'],
)  # fmt: skip
def test_unsupported_dtypes_are_rejected_when_writing(arr):
  with pytest.raises(ValueError, match='cannot be serialized'):
    serialization.msgpack_serialize({'a': arr})


def test_typed_prng_keys_are_rejected_with_advice():
  import jax

  with pytest.raises(TypeError, match='key_data'):
    serialization.msgpack_serialize({'k': jax.random.key(0)})


def _array_ext(shape_bytes: bytes, name: bytes, data: bytes, code: int = 1, pad: int = 0) -> bytes:
  data += bytes(pad)
  payload = b'\x93' + shape_bytes + msgpack.packb(name.decode()) + msgpack.packb(data)
  return msgpack.packb(msgpack.ExtType(code, payload))


# payloads above 64 KiB take the in-place header parser, smaller ones msgpack's own
PADS = pytest.mark.parametrize('pad', [0, 70_000], ids=['small', 'large'])


@PADS
@pytest.mark.parametrize(
  'name', [b'object', b'O', b'V8', b'<U3', b'str96', b'bytes24', b'i4,f4', b'float8_unknown', b'']
)
def test_restore_rejects_non_numeric_dtype_names(name, pad):
  data = _array_ext(b'\x91\x01', name, b'\x00' * 8, pad=pad)
  with pytest.raises(serialization.DecodeError, match='unsupported dtype'):
    serialization.msgpack_restore(data)


@PADS
def test_restore_rejects_huge_header_before_allocating(pad):
  # shape (10**12,) float32 claims 4 TB, with 8 bytes of data
  data = _array_ext(msgpack.packb([10**12]), b'float32', b'\x00' * 8, pad=pad)
  tracemalloc.start()
  start = time.perf_counter()
  with pytest.raises(serialization.DecodeError, match=r'declares shape \(1000000000000,\)'):
    serialization.msgpack_restore(data)
  _, peak = tracemalloc.get_traced_memory()
  tracemalloc.stop()
  assert peak < 3 * len(data) + (1 << 20) and time.perf_counter() - start < 1


@pytest.mark.parametrize(
  'shape_bytes, name, data, match',
  [
    (b'\x91\xff', b'int8', b'', 'non-negative'),  # negative fixint dimension
    (b'\x91\xd0\xfe', b'int8', b'', 'non-negative'),  # int8 -2
    (b'\x92\x02\x02', b'int8', b'\x00' * 3, 'declares shape'),
    (b'\xdc\x00\x41' + b'\x01' * 65, b'int8', b'\x00', 'at most 64'),
    (b'\x90', b'float32', b'\x00' * 8, 'declares shape'),
    (b'\xa1x', b'int8', b'', 'expected a msgpack array'),
  ],
)
@PADS
def test_restore_rejects_malformed_array_headers(shape_bytes, name, data, match, pad):
  with pytest.raises(serialization.DecodeError, match=match):
    serialization.msgpack_restore(_array_ext(shape_bytes, name, data, pad=pad))


@PADS
def test_restore_rejects_truncated_and_non_array_payloads(pad):
  good = serialization.msgpack_serialize(np.zeros(5 + pad, np.uint8))
  ext_data = msgpack.unpackb(good, ext_hook=lambda code, d: d)
  for payload in (b'\x92\x91\x01\xa4int8', ext_data[:-1] + b'', b'\xc0' + ext_data[1:]):
    with pytest.raises(serialization.DecodeError):
      serialization.msgpack_restore(msgpack.packb(msgpack.ExtType(1, payload)))


def test_shaped_ext_3_decodes_like_the_reference_and_bad_complex_is_refused():
  # the reference returns arr[()] for ext type 3, which for a shaped array is the array
  out = serialization.msgpack_restore(_array_ext(b'\x91\x02', b'int8', b'\x01\x02', code=3))
  np.testing.assert_array_equal(out, np.array([1, 2], np.int8))
  bad = msgpack.packb(msgpack.ExtType(2, msgpack.packb([1.0, 'x'])))
  with pytest.raises(serialization.DecodeError, match='complex'):
    serialization.msgpack_restore(bad)
  with pytest.raises(serialization.DecodeError, match='complex'):
    serialization.msgpack_restore(msgpack.packb(msgpack.ExtType(2, b'\xc1')))


def test_zero_size_arrays_with_large_dimensions_allocate_nothing():
  data = _array_ext(msgpack.packb([0, 10**9]), b'float64', b'')
  out = serialization.msgpack_restore(data)
  assert out.shape == (0, 10**9) and out.dtype == np.float64 and list(out) == []
  ok = serialization.msgpack_restore(_array_ext(msgpack.packb([2**20, 0]), b'int8', b''))
  assert ok.shape == (2**20, 0)


@pytest.mark.parametrize('shape', [[2**32 - 1, 0], [2**20 + 1, 0, 7], [1024, 1025, 0]])
def test_empty_arrays_with_billions_of_rows_are_refused(shape):
  # 40 bytes of input that list(arr) would turn into billions of objects
  with pytest.raises(serialization.DecodeError, match='sub-arrays before its first zero'):
    serialization.msgpack_restore(_array_ext(msgpack.packb(shape), b'float32', b''))


def test_restored_arrays_are_read_only_views():
  out = serialization.msgpack_restore(serialization.msgpack_serialize(np.arange(4)))
  assert not out.flags.writeable
