"""Cheap completeness check of a msgpack checkpoint file, without decoding it.

A legacy checkpoint is exactly one msgpack object. msgpack is self-delimiting:
every object's length follows from its header bytes, so a strict prefix of a
valid object is never a complete object. ``check_complete`` walks the headers,
*seeking over* string, binary and extension payloads (array data is never
read), and verifies that the file holds exactly one object and nothing after it.

This detects any truncation, trailing garbage and most header corruption in
O(number of objects) small reads. It cannot detect flipped bits inside array
payloads: the reference format has no checksum (restoring such a file succeeds
with different numbers; decoding checks the rest).
"""

from __future__ import annotations

import io
import os
import struct

# header byte -> (payload length field size, fixed extra bytes, kind)
#   kind: 'skip' (skip fixed bytes), 'blob' (length-prefixed payload),
#   'ext' (length-prefixed payload plus one type byte), 'array'/'map' (count).
_FIXED = {0xC0: 0, 0xC2: 0, 0xC3: 0, 0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8,
          0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}
_BLOB = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
_EXT = {0xC7: 1, 0xC8: 2, 0xC9: 4}
_ARRAY = {0xDC: 2, 0xDD: 4}
_MAP = {0xDE: 2, 0xDF: 4}
_UINT = {1: '>B', 2: '>H', 4: '>I'}


class IncompleteFile(ValueError):
  """The file is not exactly one complete msgpack object (message says why)."""


def check_complete(path: str) -> None:
  """Raises ``IncompleteFile`` unless ``path`` holds exactly one msgpack object.

  Raises:
    IncompleteFile: truncated, empty, trailing bytes, or an invalid header byte.
    OSError: the file cannot be read.
  """
  size = os.path.getsize(path)
  with open(path, 'rb', buffering=64 * 1024) as f:
    _walk(f, size)


def _read(f: io.BufferedReader, n: int) -> bytes:
  data = f.read(n)
  if len(data) != n:
    raise IncompleteFile(f'the file ends inside an object header at byte {f.tell()}')
  return data


def _walk(f: io.BufferedReader, size: int) -> None:
  if size == 0:
    raise IncompleteFile('the file is empty')
  pending = 1
  while pending:
    pending -= 1
    (b,) = _read(f, 1)
    if b <= 0x7F or b >= 0xE0:  # fixint
      continue
    if 0x80 <= b <= 0x8F:  # fixmap
      pending += 2 * (b & 0x0F)
    elif 0x90 <= b <= 0x9F:  # fixarray
      pending += b & 0x0F
    elif 0xA0 <= b <= 0xBF:  # fixstr
      _skip(f, b & 0x1F, size)
    elif b in _FIXED:
      _skip(f, _FIXED[b], size)
    elif b in _BLOB:
      (n,) = struct.unpack(_UINT[_BLOB[b]], _read(f, _BLOB[b]))
      _skip(f, n, size)
    elif b in _EXT:
      (n,) = struct.unpack(_UINT[_EXT[b]], _read(f, _EXT[b]))
      _skip(f, n + 1, size)
    elif b in _ARRAY:
      (n,) = struct.unpack(_UINT[_ARRAY[b]], _read(f, _ARRAY[b]))
      pending += n
    elif b in _MAP:
      (n,) = struct.unpack(_UINT[_MAP[b]], _read(f, _MAP[b]))
      pending += 2 * n
    else:  # 0xC1 is never used by msgpack
      raise IncompleteFile(f'invalid msgpack header byte 0x{b:02x} at byte {f.tell() - 1}')
    if pending > size:  # cannot possibly be satisfied by the remaining bytes
      raise IncompleteFile(f'a container announces more entries than the file has bytes ({size})')
  end = f.tell()
  if end != size:
    raise IncompleteFile(f'{size - end} unexpected bytes after the end of the object at byte {end}')


def _skip(f: io.BufferedReader, n: int, size: int) -> None:
  target = f.tell() + n
  if target > size:
    raise IncompleteFile(f'the file is truncated: a payload ends at byte {target} of {size}')
  f.seek(n, os.SEEK_CUR)
