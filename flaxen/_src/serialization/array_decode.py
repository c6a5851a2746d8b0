"""Decoding the msgpack extension payloads: arrays, numpy scalars, complex numbers.

The payloads are untrusted. An array payload must be the msgpack array
``[shape, dtype name, data]`` and every part is checked before anything is
built:

* ``shape``: at most 64 non-negative integers;
* ``dtype name``: a plain numeric type from a fixed list (booleans, integers,
  floats, complex, datetimes, ml_dtypes' bfloat16 / float8 / int4 ...). Object,
  structured, string and void dtypes are refused and nothing is ever unpickled;
* ``data``: exactly ``prod(shape) * itemsize`` bytes;
* an *empty* array (a zero in its shape) may not have more than
  ``MAX_EMPTY_EXTENT`` sub-arrays before its first zero dimension: such an
  array costs no bytes in the file, but iterating over it (``list(a)``,
  ``a.tolist()``) creates that many objects, so a 40-byte input could otherwise
  claim 4.3 billion rows. ``(0, 10**9)`` is fine (nothing to iterate),
  ``(2**32 - 1, 0)`` is refused. The reference accepts both; this is the one
  limit flaxen adds for untrusted input.

The array returned is a read-only view of the payload, so decoding allocates
nothing proportional to the declared shape. Small payloads (up to
``SMALL_PAYLOAD``) are parsed by msgpack's C unpacker, larger ones by a small
cursor that never copies the data; both apply the same checks and every problem
raises ``MsgpackDecodeError``.

Fast path: a parameter tree repeats a few shapes many times, and the header of
a payload (everything before the data) depends only on its shape and dtype. So
every validated small header is remembered, keyed by the payload's length and
first ``_PROBE`` bytes; a later payload of that length that starts with exactly
those header bytes is, byte for byte, a header that already passed every check,
and its array is built directly.
"""

from __future__ import annotations

import math

import msgpack
import numpy as np

from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.serialization.array_codec import (
  EXT_ARRAY,
  EXT_COMPLEX,
  EXT_SCALAR,
  ML_DTYPES,
  NUMPY_DTYPE_NAME,
  SMALL_PAYLOAD,
)

MAX_NDIM = 64  # numpy's limit
MAX_NAME = 64
MAX_EMPTY_EXTENT = 1 << 20
_dtype_cache: dict[str, np.dtype] = dict(ML_DTYPES)
# (payload length, first _PROBE bytes) -> validated headers (header bytes, shape, dtype)
_known: dict[tuple[int, bytes], tuple] = {}
_KNOWN_MAX = 4096
_PROBE = 9  # the shortest possible header: 0x93, empty shape, 'bool', bin8 length
_unpackb = msgpack.unpackb
_UNPACK_ERRORS = (ValueError, TypeError, msgpack.UnpackException)


class _Cursor:
  """A bounds-checked reader over the header of a large payload."""

  __slots__ = ('data', 'pos')

  def __init__(self, data: bytes):
    self.data = data
    self.pos = 0

  def take(self, n: int) -> bytes:
    end = self.pos + n
    if end > len(self.data):
      raise MsgpackDecodeError('truncated array header in an extension payload')
    chunk = self.data[self.pos : end]
    self.pos = end
    return chunk

  def number(self, size: int, signed: bool = False) -> int:
    return int.from_bytes(self.take(size), 'big', signed=signed)

  def count(self, what: str) -> int:
    """Length of a msgpack array (fixarray, array16, array32)."""
    b = self.number(1)
    if b & 0xF0 == 0x90:
      return b & 0x0F
    if b in (0xDC, 0xDD):
      return self.number(2 if b == 0xDC else 4)
    raise MsgpackDecodeError(f'expected a msgpack array for the {what}, found byte 0x{b:02x}')

  def dimension(self) -> int:
    b = self.number(1)
    if b < 0x80:  # positive fixint
      return b
    if 0xCC <= b <= 0xD3:  # uint 8/16/32/64, then int 8/16/32/64
      signed = b >= 0xD0
      value = self.number(1 << ((b - 0xCC) & 3), signed=signed)
      if value >= 0:
        return value
    raise MsgpackDecodeError('array dimensions must be non-negative integers')

  def text(self) -> str:
    b = self.number(1)
    if b & 0xE0 == 0xA0:
      n = b & 0x1F
    elif 0xD9 <= b <= 0xDB:
      n = self.number(1 << (b - 0xD9))
    else:
      raise MsgpackDecodeError(f'expected the dtype name in an array header, found byte 0x{b:02x}')
    if n > MAX_NAME:
      raise MsgpackDecodeError(f'dtype name of {n} bytes in an array header is too long')
    try:
      return self.take(n).decode('ascii')
    except UnicodeDecodeError:
      raise MsgpackDecodeError('the dtype name in an array header is not ASCII') from None

  def blob_size(self) -> int:
    b = self.number(1)
    if 0xC4 <= b <= 0xC6:
      return self.number(1 << (b - 0xC4))
    raise MsgpackDecodeError(f'expected the array data (bin) in an array header, found 0x{b:02x}')


def dtype_from_name(name: str) -> np.dtype:
  """The dtype written as ``name``; only plain numeric types are accepted."""
  dtype = _dtype_cache.get(name)
  if dtype is not None:
    return dtype
  if NUMPY_DTYPE_NAME.fullmatch(name):
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


def check_header(shape, name) -> tuple[tuple, np.dtype, int]:
  """Validates a decoded ``(shape, dtype name)``; returns ``(shape, dtype, data bytes)``."""
  if type(shape) is not list and type(shape) is not tuple:
    raise MsgpackDecodeError('expected a msgpack array for the shape in an array header')
  if len(shape) > MAX_NDIM:
    raise MsgpackDecodeError(f'an array header declares {len(shape)} dimensions (at most 64)')
  for d in shape:
    if type(d) is not int or d < 0:
      raise MsgpackDecodeError('array dimensions must be non-negative integers')
  if type(name) is not str or len(name) > MAX_NAME:
    raise MsgpackDecodeError('expected the dtype name in an array header')
  shape = tuple(shape)
  dtype = dtype_from_name(name)
  size = math.prod(shape)
  if size == 0:
    check_empty_extent(shape)
  return shape, dtype, size * dtype.itemsize


def check_empty_extent(shape: tuple) -> None:
  """Refuses an empty ``shape`` with more than ``MAX_EMPTY_EXTENT`` rows before its first zero."""
  extent = math.prod(shape[: shape.index(0)]) if 0 in shape else 0
  if extent > MAX_EMPTY_EXTENT:
    raise MsgpackDecodeError(
      f'an empty array of shape {shape} declares {extent} sub-arrays before its first zero '
      f'dimension (at most {MAX_EMPTY_EXTENT} are accepted from untrusted input)'
    )


def _small(data: bytes) -> tuple[tuple, np.dtype, int]:
  """Header of a small payload (msgpack's C unpacker; its copy of the data is cheap)."""
  try:
    value = _unpackb(data)
  except _UNPACK_ERRORS as e:
    raise MsgpackDecodeError(f'malformed array header: {type(e).__name__}: {e}') from e
  if type(value) is not list or len(value) != 3:
    raise MsgpackDecodeError('an array header must be the msgpack array [shape, dtype, data]')
  shape, name, buf = value
  if type(buf) is not bytes:
    raise MsgpackDecodeError('expected the array data (bin) in an array header')
  header = check_header(shape, name)
  if header[2] != len(buf):
    _wrong_length(header, len(buf))
  offset = len(data) - len(buf)
  _remember(data, offset, header[0], header[1])
  return header[0], header[1], offset


def _remember(data: bytes, offset: int, shape: tuple, dtype: np.dtype) -> None:
  key = (len(data), data[:_PROBE])
  known = _known.get(key, ())
  if len(known) < 4 and len(_known) < _KNOWN_MAX:
    _known[key] = (*known, (data[:offset], shape, dtype))


def _large(data: bytes) -> tuple[tuple, np.dtype, int]:
  """Header of a large payload, parsed in place so the data is never copied."""
  return parse_header(data, len(data))


# No valid header is longer: 3 + 64 dimensions of at most 9 bytes + a 64-byte name + 5.
HEADER_MAX = 1024


def parse_header(head: bytes, length: int) -> tuple[tuple, np.dtype, int]:
  """Checks the header of an array payload of ``length`` bytes that starts with ``head``.

  ``head`` may be the whole payload or only its first ``HEADER_MAX`` bytes.

  Returns:
    ``(shape, dtype, header length)``: the data is the rest of the payload.
  """
  c = _Cursor(head)
  if c.count('array header') != 3:
    raise MsgpackDecodeError('an array header must be the msgpack array [shape, dtype, data]')
  ndim = c.count('shape')
  if ndim > MAX_NDIM:
    raise MsgpackDecodeError(f'an array header declares {ndim} dimensions (at most 64)')
  shape = [c.dimension() for _ in range(ndim)]
  header = check_header(shape, c.text())
  nbytes = c.blob_size()
  if nbytes != length - c.pos:
    raise MsgpackDecodeError(
      f'array data length {nbytes} does not match the {length - c.pos} bytes left in its payload'
    )
  if header[2] != nbytes:
    _wrong_length(header, nbytes)
  return header[0], header[1], c.pos


def _wrong_length(header: tuple, nbytes: int):
  shape, dtype, expected = header
  raise MsgpackDecodeError(
    f'an array header declares shape {shape} of {dtype.name} ({expected} bytes) '
    f'but its payload holds {nbytes} bytes of data'
  )


def decode_array(data: bytes, scalar: bool = False):
  """Decodes the payload of ext type 1 (or 3 with ``scalar=True``).

  Returns:
    A read-only numpy array viewing ``data`` (for ext type 3, ``arr[()]``: a
    numpy scalar, as the reference returns it).

  Raises:
    MsgpackDecodeError: malformed header, unsupported dtype, a data length that
      differs from ``prod(shape) * itemsize``, or an oversized empty array.
  """
  for header, shape, dtype in _known.get((len(data), data[:_PROBE]), ()):
    if data.startswith(header):
      arr = np.ndarray(shape, dtype, data, len(header))
      return arr[()] if scalar else arr
  shape, dtype, offset = (_small if len(data) <= SMALL_PAYLOAD else _large)(data)
  try:
    arr = np.ndarray(shape, dtype, data, offset)
  except (ValueError, TypeError, OverflowError, MemoryError) as e:
    raise MsgpackDecodeError(f'cannot build an array of shape {shape} and dtype {dtype}: {e}') from e
  return arr[()] if scalar else arr


def decode_complex(data: bytes) -> complex:
  """Decodes the payload of ext type 2 (``[real, imag]``)."""
  try:
    value = _unpackb(data)
  except _UNPACK_ERRORS as e:
    raise MsgpackDecodeError(f'malformed complex number payload: {e}') from e
  if type(value) is not list or len(value) != 2 or not all(type(v) in (int, float) for v in value):
    raise MsgpackDecodeError('a complex number payload must be the msgpack array [real, imag]')
  return complex(value[0], value[1])


class ExtHook:
  """msgpack's ``ext_hook`` for one decode: builds each extension value, counts payload bytes.

  ``payload_bytes`` (the bytes inside extension records) tells the caller how
  much of the input was array data, which decides how it looks for chunked
  arrays (see ``msgpack_codec``). ``hook`` is the function given to msgpack: a
  closure whose fast path (a header seen before) is inlined, since it runs once
  per array -- for 5,000 small arrays its cost is most of a decode.
  """

  __slots__ = ('_total', 'hook')

  def __init__(self):
    total = self._total = [0]
    known_get, probe, ndarray = _known.get, _PROBE, np.ndarray
    # The last header that matched: (payload length, header, shape, dtype, header length,
    # element count of a 1-D shape, else -1). Consecutive arrays of a tree mostly share one.
    last = [(-1, b'', (), None, 0, -1)]
    frombuffer = np.frombuffer  # a 1-D view is made a little faster this way

    def hook(code: int, data: bytes):
      n = len(data)
      total[0] += n
      if code == EXT_ARRAY:
        size, header, shape, dtype, start, count = last[0]
        if n == size and data.startswith(header):
          if count >= 0:
            return frombuffer(data, dtype, count, start)
          return ndarray(shape, dtype, data, start)
        for header, shape, dtype in known_get((n, data[:probe]), ()):
          if data.startswith(header):
            count = shape[0] if len(shape) == 1 else -1
            last[0] = (n, header, shape, dtype, len(header), count)
            return ndarray(shape, dtype, data, len(header))
        return decode_array(data)
      if code == EXT_SCALAR:
        return decode_array(data, scalar=True)
      if code == EXT_COMPLEX:
        return decode_complex(data)
      raise MsgpackDecodeError(f'unknown msgpack extension type {code}')

    self.hook = hook

  @property
  def payload_bytes(self) -> int:
    """The bytes of all extension payloads decoded so far."""
    return self._total[0]

  def count_payload(self, size: int) -> None:
    """Counts a payload decoded elsewhere (``view_decode``)."""
    self._total[0] += size

  def __call__(self, code: int, data: bytes):
    return self.hook(code, data)
