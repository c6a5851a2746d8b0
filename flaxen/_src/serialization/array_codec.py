"""The msgpack extension payloads: arrays, numpy scalars and Python complex numbers.

Wire format (the reference's, byte for byte):
  * ext type 1 (array) and 3 (numpy scalar, ``shape == ()``) carry the msgpack
    array ``[shape, dtype name, data]``: ``shape`` an array of ints, the dtype's
    ``name`` (``"float32"``, ``"bfloat16"``, ``"float8_e4m3fn"``, ...) and
    ``data`` a ``bin`` with the C-order bytes in native (little-endian) order;
  * ext type 2 (Python ``complex``) carries the msgpack array ``[real, imag]``.

Encoding hands out *pieces* (small headers plus a zero-copy ``memoryview`` of
the array's bytes) so a writer can stream them; only arrays that are not
C-contiguous or not in native byte order are copied.

Decoding treats the payload as untrusted: every header field is type-checked, the
dtype must be a plain numeric type from a fixed list (no object, structured,
string or void dtypes; nothing is ever unpickled), and the data must be
exactly ``prod(shape) * itemsize`` bytes long, checked before the array is made.
The array is a read-only view of the payload, so decoding allocates nothing
proportional to the declared shape. Small payloads (up to 64 KiB) are parsed by
msgpack's C unpacker, larger ones by a small reader that never copies the data;
both apply the same checks. Every problem raises ``MsgpackDecodeError``.
"""

from __future__ import annotations

import functools
import math
import re
import struct

import ml_dtypes
import msgpack
import numpy as np

from flaxen._src.serialization.errors import MsgpackDecodeError

EXT_ARRAY = 1
EXT_COMPLEX = 2
EXT_SCALAR = 3

_ML_DTYPE_NAMES = (
  'bfloat16', 'float8_e3m4', 'float8_e4m3', 'float8_e4m3b11fnuz', 'float8_e4m3fn',
  'float8_e4m3fnuz', 'float8_e5m2', 'float8_e5m2fnuz', 'float8_e8m0fnu', 'float6_e2m3fn',
  'float6_e3m2fn', 'float4_e2m1fn', 'int2', 'int4', 'uint2', 'uint4',
)  # fmt: skip
_ML_DTYPES = {
  name: np.dtype(getattr(ml_dtypes, name)) for name in _ML_DTYPE_NAMES if hasattr(ml_dtypes, name)
}
_ML_TYPES = frozenset(d.type for d in _ML_DTYPES.values())
_NUMPY_NAME = re.compile(
  r'bool|u?int(8|16|32|64)|float(16|32|64|80|96|128)|complex(64|128|160|192|256)'
  r'|(datetime|timedelta)64(\[\d*[A-Za-z]+\])?'
)
_dtype_cache: dict[str, np.dtype] = dict(_ML_DTYPES)
_MAX_NDIM = 64  # numpy's limit
_MAX_NAME = 64
# payloads up to this size are parsed by msgpack itself (fast, copies the data);
# larger ones by _Reader, in place
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


@functools.lru_cache(maxsize=4096)
def _shape_bytes(shape: tuple) -> bytes:
  return array_header(len(shape)) + b''.join([_pack(int(d)) for d in shape])


def array_pieces(arr: np.ndarray, code: int = EXT_ARRAY) -> list:
  """The ext record of a numpy array as ``[header bytes, data memoryview]``.

  Args:
    arr: the array; it is read in C order (copied only when not C-contiguous
      or not in native byte order).
    code: ``EXT_ARRAY`` or ``EXT_SCALAR``.

  Raises:
    ValueError: the dtype cannot be serialized (see ``check_dtype``).
  """
  dtype = arr.dtype
  if not dtype.isnative:
    dtype = dtype.newbyteorder('=')
    arr = arr.astype(dtype)
  name = _dtype_name_bytes(dtype)
  shape = arr.shape
  if not arr.flags.c_contiguous:
    arr = np.ascontiguousarray(arr)
  data = arr.reshape(-1).view(np.uint8)  # a view: arr is C-contiguous
  nbytes = data.size
  prefix = b''.join((b'\x93', _shape_bytes(shape), name, _bin_header(nbytes)))
  return [ext_header(code, len(prefix) + nbytes) + prefix, memoryview(data)]


def complex_payload(x: complex) -> bytes:
  """The payload of ext type 2: the msgpack array ``[real, imag]``."""
  return _pack([float(x.real), float(x.imag)])


# --- decoding ------------------------------------------------------------------


class _Reader:
  """A bounds-checked cursor over an extension payload."""

  __slots__ = ('data', 'pos')

  def __init__(self, data: bytes):
    self.data = data
    self.pos = 0

  def take(self, n: int) -> bytes:
    end = self.pos + n
    if end > len(self.data):
      raise MsgpackDecodeError('truncated array header in an extension payload')
    out = self.data[self.pos : end]
    self.pos = end
    return out

  def uint(self, size: int) -> int:
    return int.from_bytes(self.take(size), 'big')

  def array_len(self) -> int:
    b = self.uint(1)
    if 0x90 <= b <= 0x9F:
      return b & 0x0F
    if b in (0xDC, 0xDD):
      return self.uint(2 if b == 0xDC else 4)
    raise MsgpackDecodeError(f'expected a msgpack array in an array header, found byte 0x{b:02x}')

  def nonneg_int(self) -> int:
    b = self.uint(1)
    if b <= 0x7F:
      return b
    if 0xCC <= b <= 0xCF:  # uint 8/16/32/64
      return self.uint(1 << (b - 0xCC))
    if 0xD0 <= b <= 0xD3:  # int 8/16/32/64
      size = 1 << (b - 0xD0)
      value = int.from_bytes(self.take(size), 'big', signed=True)
      if value >= 0:
        return value
    raise MsgpackDecodeError('array dimensions must be non-negative integers')

  def str(self) -> str:
    b = self.uint(1)
    if 0xA0 <= b <= 0xBF:
      n = b & 0x1F
    elif 0xD9 <= b <= 0xDB:
      n = self.uint(1 << (b - 0xD9))
    else:
      raise MsgpackDecodeError(f'expected the dtype name in an array header, found byte 0x{b:02x}')
    if n > _MAX_NAME:
      raise MsgpackDecodeError(f'dtype name of {n} bytes in an array header is too long')
    try:
      return self.take(n).decode('ascii')
    except UnicodeDecodeError:
      raise MsgpackDecodeError('the dtype name in an array header is not ASCII') from None

  def bin_len(self) -> int:
    b = self.uint(1)
    if 0xC4 <= b <= 0xC6:
      return self.uint(1 << (b - 0xC4))
    raise MsgpackDecodeError(f'expected the array data (bin) in an array header, found 0x{b:02x}')


def dtype_from_name(name: str) -> np.dtype:
  """The dtype written as ``name``; only plain numeric types are accepted."""
  dtype = _dtype_cache.get(name)
  if dtype is not None:
    return dtype
  if _NUMPY_NAME.fullmatch(name):
    try:
      dtype = np.dtype(name)
    except (TypeError, ValueError):
      dtype = None
    if dtype is not None and dtype.kind in 'biufcmM' and dtype.name == name:
      _dtype_cache[name] = dtype
      return dtype
  raise MsgpackDecodeError(
    f'unsupported dtype {name!r} in an array header (only boolean, integer, floating, complex, '
    'datetime and ml_dtypes types can be restored)'
  )


def _small_header(data: bytes) -> tuple[tuple, str, int]:
  """Header of a small payload, parsed by msgpack's C unpacker (copying its data is cheap)."""
  try:
    value = msgpack.unpackb(data)
  except (ValueError, TypeError, msgpack.UnpackException) as e:
    raise MsgpackDecodeError(f'malformed array header: {type(e).__name__}: {e}') from e
  if type(value) is not list or len(value) != 3:
    raise MsgpackDecodeError('an array header must be the msgpack array [shape, dtype, data]')
  shape, name, buf = value
  if type(shape) is not list:
    raise MsgpackDecodeError('expected a msgpack array for the shape in an array header')
  if len(shape) > _MAX_NDIM:
    raise MsgpackDecodeError(f'an array header declares {len(shape)} dimensions (at most 64)')
  if not all(type(d) is int and d >= 0 for d in shape):
    raise MsgpackDecodeError('array dimensions must be non-negative integers')
  if type(name) is not str or len(name) > _MAX_NAME:
    raise MsgpackDecodeError('expected the dtype name in an array header')
  if type(buf) is not bytes:
    raise MsgpackDecodeError('expected the array data (bin) in an array header')
  return tuple(shape), name, len(data) - len(buf)


def _large_header(data: bytes) -> tuple[tuple, str, int]:
  """Header of a large payload, parsed in place so the data is never copied."""
  r = _Reader(data)
  if r.array_len() != 3:
    raise MsgpackDecodeError('an array header must be the msgpack array [shape, dtype, data]')
  ndim = r.array_len()
  if ndim > _MAX_NDIM:
    raise MsgpackDecodeError(f'an array header declares {ndim} dimensions (at most 64)')
  shape = tuple(r.nonneg_int() for _ in range(ndim))
  name = r.str()
  nbytes = r.bin_len()
  if nbytes != len(data) - r.pos:
    raise MsgpackDecodeError(
      f'array data length {nbytes} does not match the {len(data) - r.pos} bytes left in its payload'
    )
  return shape, name, r.pos


def decode_array(data: bytes, scalar: bool = False):
  """Decodes the payload of ext type 1 (or 3 with ``scalar=True``).

  Returns:
    A read-only numpy array viewing ``data`` (a numpy scalar for ext type 3).

  Raises:
    MsgpackDecodeError: malformed header, unsupported dtype, or a data length
      that differs from ``prod(shape) * itemsize``.
  """
  parse = _small_header if len(data) <= SMALL_PAYLOAD else _large_header
  shape, name, offset = parse(data)
  dtype = dtype_from_name(name)
  nbytes = len(data) - offset
  size = math.prod(shape)
  if size * dtype.itemsize != nbytes:
    raise MsgpackDecodeError(
      f'an array header declares shape {shape} of {dtype.name} ({size * dtype.itemsize} bytes) '
      f'but its payload holds {nbytes} bytes of data'
    )
  if scalar and shape:
    raise MsgpackDecodeError(f'a numpy scalar must have shape (), got {shape}')
  try:
    if size:
      arr = np.frombuffer(data, dtype=dtype, count=size, offset=offset).reshape(shape)
    else:
      arr = np.empty(shape, dtype)
      arr.flags.writeable = False
  except (ValueError, TypeError, OverflowError, MemoryError) as e:
    raise MsgpackDecodeError(f'cannot build an array of shape {shape} and dtype {dtype}: {e}') from e
  return arr[()] if scalar else arr


def decode_complex(data: bytes) -> complex:
  """Decodes the payload of ext type 2 (``[real, imag]``)."""
  try:
    value = msgpack.unpackb(data)
  except (ValueError, TypeError, msgpack.UnpackException) as e:
    raise MsgpackDecodeError(f'malformed complex number payload: {e}') from e
  if (
    type(value) is not list
    or len(value) != 2
    or not all(type(v) in (int, float) for v in value)
  ):
    raise MsgpackDecodeError('a complex number payload must be the msgpack array [real, imag]')
  return complex(value[0], value[1])
