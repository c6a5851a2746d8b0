"""The msgpack extension payloads: arrays, numpy scalars and Python complex numbers.

Wire format (the reference's, byte for byte):
  * ext type 1 (array) and 3 (numpy scalar, ``shape == ()``) carry the msgpack
    array ``[shape, dtype name, data]``: ``shape`` an array of ints, the dtype's
    ``name`` (``"float32"``, ``"bfloat16"``, ``"float8_e4m3fn"``, ...) and
    ``data`` a ``bin`` with the C-order bytes in native (little-endian) order;
  * ext type 2 (Python ``complex``) carries the msgpack array ``[real, imag]``.

This file holds the wire constants and the *encoding* side. Encoding hands out
*pieces*: the record's header (cached per shape, dtype and ext code, since it
depends on nothing else) and the array's bytes (a copy for small arrays, a
zero-copy ``memoryview`` for large ones), so a writer can stream them. Decoding
lives in ``array_decode``.
"""

from __future__ import annotations

import functools
import math
import re
import struct

import ml_dtypes
import msgpack
import numpy as np

EXT_ARRAY = 1
EXT_COMPLEX = 2
EXT_SCALAR = 3

_ML_DTYPE_NAMES = (
  'bfloat16', 'float8_e3m4', 'float8_e4m3', 'float8_e4m3b11fnuz', 'float8_e4m3fn',
  'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz', 'float8_e8m0fnu', 'float6_e2m3fn',
  'float6_e3m2fn', 'float4_e2m1fn', 'int2', 'int4', 'uint2', 'uint4',
)  # fmt: skip
ML_DTYPES = {
  name: np.dtype(getattr(ml_dtypes, name)) for name in _ML_DTYPE_NAMES if hasattr(ml_dtypes, name)
}
_ML_TYPES = frozenset(d.type for d in ML_DTYPES.values())
NUMPY_DTYPE_NAME = re.compile(
  r'bool|u?int(8|16|32|64)|float(16|32|64|80|96|128)|complex(64|128|160|192|256)'
  r'|(datetime|timedelta)64(\[\d*[A-Za-z]+\])?'
)
# arrays up to this size are written as a copy and their payloads parsed by msgpack itself;
# larger ones are written as views and parsed in place (array_decode)
SMALL_PAYLOAD = 1 << 16
_FIXEXT = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}
_pack = msgpack.packb  # a fresh packer per call: thread-safe; callers cache the results


def check_dtype(dtype: np.dtype) -> None:
  """Raises ``ValueError`` unless arrays of ``dtype`` can be written and read back."""
  if dtype.kind in 'biufcmM' or dtype.type in _ML_TYPES:
    return
  raise ValueError(
    f'arrays of dtype {dtype} cannot be serialized: only boolean, integer, floating, complex, '
    'datetime and ml_dtypes (bfloat16, float8, int4, ...) arrays are supported; object, '
    'structured, string and void dtypes are not.'
  )


def ext_header(code: int, size: int) -> bytes:
  """The msgpack ext header for a payload of ``size`` bytes (smallest form, as msgpack does)."""
  fix = _FIXEXT.get(size)
  if fix is not None:
    return bytes((fix, code))
  if size < 0x100:
    return struct.pack('>BBb', 0xC7, size, code)
  if size < 0x10000:
    return struct.pack('>BHb', 0xC8, size, code)
  if size < 0x100000000:
    return struct.pack('>BIb', 0xC9, size, code)
  raise ValueError(
    f'an array payload of {size} bytes exceeds msgpack\'s 4 GiB limit per object; lower '
    'serialization.MAX_CHUNK_SIZE so that large arrays are chunked'
  )


def _bin_header(size: int) -> bytes:
  if size < 0x100:
    return struct.pack('>BB', 0xC4, size)
  if size < 0x10000:
    return struct.pack('>BH', 0xC5, size)
  return struct.pack('>BI', 0xC6, size)


def array_header(n: int) -> bytes:
  """The msgpack header of an array of ``n`` items."""
  if n < 16:
    return bytes((0x90 | n,))
  return struct.pack('>BH', 0xDC, n) if n < 0x10000 else struct.pack('>BI', 0xDD, n)


def map_header(n: int) -> bytes:
  """The msgpack header of a map of ``n`` entries."""
  if n < 16:
    return bytes((0x80 | n,))
  return struct.pack('>BH', 0xDE, n) if n < 0x10000 else struct.pack('>BI', 0xDF, n)


@functools.cache  # one entry per dtype: a handful in practice
def _dtype_name_bytes(dtype: np.dtype) -> bytes:
  check_dtype(dtype)
  return _pack(dtype.name)


@functools.lru_cache(maxsize=8192)
def record_prefix(shape: tuple, dtype: np.dtype, code: int) -> bytes:
  """Everything of an ext record before the array bytes; fixed by shape, dtype and code."""
  nbytes = math.prod(shape) * dtype.itemsize
  dims = array_header(len(shape)) + b''.join([_pack(int(d)) for d in shape])
  body = b''.join((b'\x93', dims, _dtype_name_bytes(dtype), _bin_header(nbytes)))
  return ext_header(code, len(body) + nbytes) + body


def array_pieces(arr: np.ndarray, code: int = EXT_ARRAY) -> tuple:
  """The ext record of a numpy array as ``(header bytes, data)``.

  The data is ``bytes`` for arrays up to ``SMALL_PAYLOAD`` bytes (one copy is
  cheaper than the views) and a ``memoryview`` of the array itself above that
  (copied only when the array is not C-contiguous or not in native byte order).

  Args:
    arr: the array, read in C order.
    code: ``EXT_ARRAY`` or ``EXT_SCALAR``.

  Raises:
    ValueError: the dtype cannot be serialized (see ``check_dtype``).
  """
  dtype = arr.dtype
  if not dtype.isnative:
    dtype = dtype.newbyteorder('=')
    arr = arr.astype(dtype)
  prefix = record_prefix(arr.shape, dtype, code)
  if arr.nbytes <= SMALL_PAYLOAD:
    return prefix, arr.tobytes()
  if not arr.flags.c_contiguous:
    arr = np.ascontiguousarray(arr)
  # ndarray has the buffer protocol; numpy's stubs declare __buffer__ for Python >= 3.12 only
  return prefix, memoryview(arr.reshape(-1).view(np.uint8))  # type: ignore[arg-type]


def complex_payload(x: complex) -> bytes:
  """The payload of ext type 2: the msgpack array ``[real, imag]``."""
  return _pack([float(x.real), float(x.imag)])
