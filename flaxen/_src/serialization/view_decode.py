"""Zero-copy decoding of large inputs: array payloads become views of the input bytes.

msgpack's C unpacker hands every extension payload to the hook as a fresh
``bytes`` copy. For a checkpoint (a few hundred large arrays) that copy is the
whole cost of a decode, and its speed is the allocator's: pages mapped fresh
fault in at ~2.5 GB/s, recycled ones are written at ~15 GB/s, so the same
bytes decode 6x faster or slower depending on what ran before.
``decode_views(data)`` walks the msgpack framing in Python and builds each
large array as a read-only numpy view into ``data``: the array data is never
copied, and a decode costs microseconds per container and array.

Scope: only an immutable ``bytes`` input (views of it can never change) of at
least ``MIN_INPUT`` bytes, and only the msgpack that trees of arrays are made
of: maps, arrays, nil, booleans, integers, floats, strings, bin, and the
extension types of ``array_codec`` (arrays, numpy scalars, complex numbers).
Anything else -- any other byte, a malformed length, invalid UTF-8, a map key
that cannot be one, a bad array header, trailing bytes, nesting deeper than
``MAX_DEPTH``, and inputs whose items turn out to be small on average (there
msgpack's C loop is faster) -- makes it return ``None``: the caller then
decodes with msgpack, whose checks decide what is an error. So this path never
raises on bad input and never accepts what the msgpack path refuses. Array
headers pass the same checks as there (``array_decode``); small extension
payloads are copied and decoded by the very same hook.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.serialization import array_decode
from flaxen._src.serialization.array_codec import EXT_ARRAY, SMALL_PAYLOAD

MIN_INPUT = 1 << 20
MAX_DEPTH = 512
# Give up when, after every 256 items, fewer than this many bytes per item were read.
MIN_BYTES_PER_ITEM = 4096

_F32 = struct.Struct('>f').unpack_from
_F64 = struct.Struct('>d').unpack_from
_EXT_SIZES = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_LEN_BYTES = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xC7: 1, 0xC8: 2, 0xC9: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4,
              0xDC: 2, 0xDD: 4, 0xDE: 2, 0xDF: 4}  # fmt: skip
_INT_SIZES = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_HASHABLE = (str, int, float, bool, bytes, type(None))


class _Unhandled(Exception):  # noqa: N818 - internal signal: "let msgpack decode this"
  pass


def decode_views(data: bytes, hook: Any) -> Any:
  """The decoded tree of ``data``, or ``None`` when msgpack should decode it (module docstring).

  Args:
    data: the input (only ``bytes`` of at least ``MIN_INPUT`` bytes are handled).
    hook: the ``array_decode.ExtHook`` of this decode (small extension payloads,
      and the count of payload bytes).
  """
  if type(data) is not bytes or len(data) < MIN_INPUT:
    return None
  try:
    return _Walk(data, hook).run()
  except _Unhandled:
    return None


class _Walk:
  __slots__ = ('data', 'n', 'pos', 'hook')

  def __init__(self, data: bytes, hook: Any):
    self.data, self.n, self.pos, self.hook = data, len(data), 0, hook

  def take(self, size: int) -> int:
    """The start of the next ``size`` bytes (bounds-checked)."""
    start = self.pos
    end = start + size
    if end > self.n:
      raise _Unhandled
    self.pos = end
    return start

  def number(self, size: int, signed: bool = False) -> int:
    start = self.take(size)
    return int.from_bytes(self.data[start : start + size], 'big', signed=signed)

  def run(self) -> Any:
    # A frame is [container, items left, is_map, pending key]; a map counts key/value pairs.
    stack: list[list[Any]] = []
    root: list[Any] = []
    items = 0
    while True:
      items += 1
      if not items & 255 and self.pos < items * MIN_BYTES_PER_ITEM:
        raise _Unhandled
      value, opened = self.item()
      if stack:
        frame = stack[-1]
        if frame[2]:
          if frame[3] is _NO_KEY:
            if not isinstance(value, _HASHABLE):
              raise _Unhandled
            frame[3] = value
          else:
            frame[0][frame[3]] = value
            frame[3] = _NO_KEY
            frame[1] -= 1
        else:
          frame[0].append(value)
          frame[1] -= 1
        while stack and stack[-1][1] == 0 and stack[-1][3] is _NO_KEY:
          stack.pop()
      else:
        root.append(value)
      if opened:
        if len(stack) >= MAX_DEPTH:
          raise _Unhandled
        stack.append([value, opened, type(value) is dict, _NO_KEY])
      if not stack:
        if self.pos != self.n:
          raise _Unhandled  # trailing bytes: msgpack's ExtraData
        return root[0]

  def item(self) -> tuple[Any, int]:
    """The next value, and the number of entries still to read into it (containers)."""
    data = self.data
    b = data[self.take(1)]
    if b < 0x80:
      return b, 0
    if b >= 0xE0:
      return b - 0x100, 0
    if b < 0x90:
      return {}, b & 0x0F
    if b < 0xA0:
      return [], b & 0x0F
    if b < 0xC0:
      return self.text(b & 0x1F), 0
    if b == 0xC0:
      return None, 0
    if b == 0xC2 or b == 0xC3:
      return b == 0xC3, 0
    size = _INT_SIZES.get(b)
    if size is not None:
      return self.number(size, signed=b >= 0xD0), 0
    if b == 0xCA:
      return _F32(data, self.take(4))[0], 0
    if b == 0xCB:
      return _F64(data, self.take(8))[0], 0
    size = _EXT_SIZES.get(b)
    if size is not None:
      return self.ext(self.number(1, signed=True), size), 0
    width = _LEN_BYTES.get(b)
    if width is None:
      raise _Unhandled  # 0xC1 (never used)
    length = self.number(width)
    if b <= 0xC6:
      start = self.take(length)
      return data[start : start + length], 0
    if b <= 0xC9:
      return self.ext(self.number(1, signed=True), length), 0
    if b <= 0xDB:
      return self.text(length), 0
    if b <= 0xDD:
      return [], length
    return {}, length

  def text(self, length: int) -> str:
    start = self.take(length)
    try:
      return self.data[start : start + length].decode('utf-8')
    except UnicodeDecodeError:
      raise _Unhandled from None

  def ext(self, code: int, length: int) -> Any:
    start = self.take(length)
    data = self.data
    try:
      if code == EXT_ARRAY and length > SMALL_PAYLOAD:
        head = data[start : start + min(length, array_decode.HEADER_MAX)]
        shape, dtype, offset = array_decode.parse_header(head, length)
        self.hook.count_payload(length)
        return np.ndarray(shape, dtype, data, start + offset)
      if code < 0:
        raise _Unhandled  # msgpack's own types (timestamps)
      return self.hook(code, data[start : start + length])
    except MsgpackDecodeError:
      raise _Unhandled from None


_NO_KEY = object()
