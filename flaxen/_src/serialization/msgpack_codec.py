"""msgpack encoding of plain trees (``msgpack_serialize``) and checked decoding (``msgpack_restore``).

Encoding walks the tree once and appends *pieces* to a list: msgpack headers and
scalars as small ``bytes``, array data as ``memoryview`` s of the arrays
themselves. The result is one ``b''.join`` of the pieces, so a contiguous array
is copied exactly once, into the output (the reference copies it three times).
Types are matched exactly, as msgpack's ``strict_types`` does in the reference:
``dict`` -> map, ``list``/``tuple`` -> array, ``None``/``bool``/``int``/``float``/
``str``/``bytes`` -> native msgpack, numpy/jax arrays -> ext 1, numpy scalars
(``np.generic``, including ``np.float64``) -> ext 3, ``complex`` -> ext 2.
Arrays above ``MAX_CHUNK_SIZE`` bytes are written in chunked form (see
``chunking``) wherever they appear.

Decoding uses msgpack's C unpacker, whose length limits are derived from the
input size, with hooks that decode the extension payloads (``array_codec``) and
reassemble chunked arrays bottom-up (no recursion in Python). Any problem with
the bytes raises ``MsgpackDecodeError``.
"""

from __future__ import annotations

from typing import Any

import jax
import msgpack
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.serialization import array_codec, chunking
from flaxen._src.serialization.errors import MsgpackDecodeError

_NATIVE = frozenset((type(None), bool, int, float, str, bytes, bytearray, memoryview))


class _Encoder:
  """Collects the pieces of one msgpack document."""

  __slots__ = ('pieces', 'pack')

  def __init__(self):
    self.pieces: list = []
    self.pack = msgpack.Packer().pack  # autoreset: returns the bytes of one object

  def encode(self, x: Any) -> None:
    t = type(x)
    if t is dict:
      self.pieces.append(array_codec.map_header(len(x)))
      for key, value in x.items():
        self.encode(key)
        self.encode(value)
    elif t is list or t is tuple:
      self.pieces.append(array_codec.array_header(len(x)))
      for value in x:
        self.encode(value)
    elif t in _NATIVE:
      self.pieces.append(self.pack(x))
    elif isinstance(x, (np.ndarray, jax.Array)):
      self.array(_to_numpy(x))
    elif isinstance(x, np.generic):
      self.pieces.extend(array_codec.array_pieces(np.asarray(x), array_codec.EXT_SCALAR))
    elif isinstance(x, complex):
      payload = array_codec.complex_payload(x)
      self.pieces.append(array_codec.ext_header(array_codec.EXT_COMPLEX, len(payload)))
      self.pieces.append(payload)
    else:
      raise TypeError(
        f'can not serialize {t.__name__!r} object: msgpack_serialize takes trees of dict, list, '
        'tuple, Python scalars, str, bytes, numpy/jax arrays and numpy scalars; convert other '
        'objects with to_state_dict (to_bytes does this) or register a handler with '
        'register_serialization_state'
      )

  def array(self, arr: np.ndarray) -> None:
    if not chunking.needs_chunking(arr):
      self.pieces.extend(array_codec.array_pieces(arr))
      return
    array_codec.check_dtype(arr.dtype)
    pack, pieces = self.pack, self.pieces
    pieces += [array_codec.map_header(3), pack(chunking.CHUNKED_KEY), pack(True), pack('shape')]
    pieces.append(array_codec.map_header(arr.ndim))
    for i, d in enumerate(arr.shape):
      pieces += [pack(str(i)), pack(d)]
    chunks = list(chunking.split(arr))
    pieces += [pack('chunks'), array_codec.map_header(len(chunks))]
    for i, chunk in enumerate(chunks):
      pieces.append(pack(str(i)))
      pieces.extend(array_codec.array_pieces(chunk))


def _to_numpy(x) -> np.ndarray:
  if isinstance(x, np.ndarray):
    return x
  if jax.dtypes.issubdtype(x.dtype, jax.dtypes.extended):
    raise TypeError(
      f'cannot serialize a jax array of extended dtype {x.dtype} (for example a typed PRNG '
      'key); store jax.random.key_data(key) instead'
    )
  return np.asarray(x)


@set_module('flaxen.serialization')
def msgpack_serialize(pytree: Any, in_place: bool = False) -> bytes:
  """Encodes a tree of dicts, lists, scalars and arrays as msgpack bytes.

  Low-level: for arbitrary objects (FrozenDicts, dataclasses, optimizer
  states) use ``to_bytes``, which first converts them with ``to_state_dict``.
  Arrays larger than ``MAX_CHUNK_SIZE`` bytes are split into chunks.

  Args:
    pytree: a tree of ``dict`` / ``list`` / ``tuple`` with Python scalars,
      strings, bytes, numpy or jax arrays and numpy scalars as leaves.
    in_place: accepted for compatibility with the reference, where it lets the
      tree be converted in place. The encoder here streams the tree without
      converting it, so the tree is never modified and the flag changes nothing.

  Returns:
    The msgpack bytes (identical to the reference's).

  Raises:
    TypeError: a leaf of an unsupported type.
    ValueError: an array of an unsupported dtype (object, structured, string).

  Example:
    >>> import numpy as np
    >>> from flaxen import serialization
    >>> serialization.msgpack_serialize({'a': 1})
    b'\\x81\\xa1a\\x01'
  """
  del in_place  # the tree is never modified
  encoder = _Encoder()
  encoder.encode(pytree)
  return b''.join(encoder.pieces)


# --- decoding ------------------------------------------------------------------


def _ext_hook(code: int, data: bytes):
  if code == array_codec.EXT_ARRAY:
    return array_codec.decode_array(data)
  if code == array_codec.EXT_SCALAR:
    return array_codec.decode_array(data, scalar=True)
  if code == array_codec.EXT_COMPLEX:
    return array_codec.decode_complex(data)
  raise MsgpackDecodeError(f'unknown msgpack extension type {code}')


def _check_leaves(values) -> None:
  for v in values:
    if type(v) is msgpack.Timestamp:
      raise MsgpackDecodeError('msgpack timestamps are not part of the serialization format')


def _object_hook(d: dict):
  _check_leaves(d.values())
  if chunking.is_chunked(d):
    return chunking.reassemble(d)
  return d


def _list_hook(xs: list) -> list:
  _check_leaves(xs)
  return xs


@set_module('flaxen.serialization')
def msgpack_restore(encoded_pytree: bytes) -> Any:
  """Decodes msgpack bytes written by ``msgpack_serialize`` / ``to_bytes``.

  Safe on untrusted input: nothing is unpickled or executed, arrays are checked
  against their payload length before they are built, chunked arrays against
  their declared shape, and lengths can never exceed the input's size.

  Args:
    encoded_pytree: the bytes (any bytes-like object).

  Returns:
    A tree of dicts and lists with Python scalars, strings, bytes, numpy
    arrays (read-only views of the decoded buffer, or fresh arrays for chunked
    ones) and numpy scalars as leaves.

  Raises:
    MsgpackDecodeError: the bytes are not a valid encoding (for any reason).
    TypeError: ``encoded_pytree`` is not bytes-like.
  """
  if not isinstance(encoded_pytree, (bytes, bytearray, memoryview)):
    raise TypeError(f'msgpack_restore expects bytes, got {type(encoded_pytree).__name__}')
  try:
    tree = msgpack.unpackb(
      encoded_pytree,
      ext_hook=_ext_hook,
      object_hook=_object_hook,
      list_hook=_list_hook,
      raw=False,
      strict_map_key=True,
    )
  except MsgpackDecodeError:
    raise
  except (ValueError, TypeError, KeyError, IndexError, OverflowError, msgpack.UnpackException) as e:
    raise MsgpackDecodeError(f'invalid msgpack data: {type(e).__name__}: {e}') from e
  _check_leaves((tree,))
  return tree
