"""msgpack encoding of plain trees (``msgpack_serialize``) and checked decoding (``msgpack_restore``).

Encoding walks the tree once, without recursion (a stack of container
iterators, so trees of any depth encode, including the 1,000-level trees
msgpack itself decodes), and appends *pieces* to a list: msgpack headers and
scalars as small ``bytes``, array data as bytes (small arrays) or
``memoryview`` s of the arrays themselves (large ones). The result is one
``b''.join`` of the pieces, so a large contiguous array is copied exactly
once, into the output.

Types are matched exactly, as msgpack's ``strict_types`` does in the reference:
``dict`` -> map, ``list``/``tuple`` -> array, ``None``/``bool``/``int``/
``float``/``str``/``bytes`` -> native msgpack, numpy/jax arrays -> ext 1, numpy
scalars (``np.generic``, including ``np.float64``) -> ext 3, ``complex`` -> ext
2. Map keys must be scalars (the same types, or numpy scalars): a key that is a
container could not be decoded again. Arrays above ``MAX_CHUNK_SIZE`` bytes are
written in chunked form (see ``chunking``) wherever they appear.

Decoding of a large ``bytes`` input first tries ``view_decode`` (arrays as views
of the input, no copies); otherwise, and whenever that path declines, msgpack's
C unpacker decodes, its length limits derived from the input size, with one
hook that decodes the extension payloads (``array_decode``). Map keys may be any scalar msgpack writes (``1``, ``None``,
...), as in the reference. No hook runs per map. Chunked arrays are found
afterwards, by the cheaper of two means: when nearly all of the input is array
payload (few containers), by walking the decoded containers
(``chunking.reassemble_all``); otherwise by searching the input for the marker
key, which any chunked array must contain, and walking only if it occurs. Any
problem with the bytes raises ``MsgpackDecodeError``.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import msgpack
import numpy as np

from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.public import set_module
from flaxen._src.serialization import array_codec, array_decode, chunking, view_decode

# msgpack's own types (Timestamp decodes from ext -1, as in the reference, so it encodes back)
_NATIVE = frozenset(
  (type(None), bool, int, float, str, bytes, bytearray, memoryview, msgpack.Timestamp))
_CONTAINERS = frozenset((dict, list, tuple))
# leaf kinds, classified once per type
_ARRAY, _JAX_ARRAY, _SCALAR, _COMPLEX, _OTHER = range(5)
_KIND: dict[type, int] = {np.ndarray: _ARRAY}
_KEY_CACHE: dict[str, bytes] = {}
_KEY_CACHE_MAX = 1 << 16
_CHUNK_MARK = msgpack.packb(chunking.CHUNKED_KEY)
_CHUNK_SEARCH = re.compile(re.escape(_CHUNK_MARK)).search  # also reads memoryviews in place
# a container costs a Python step in the walk, a byte a few machine steps in the scan: walk
# when the bytes outside array payloads (an upper bound on the containers) are this rare
_WALK_VS_SCAN = 256


def _leaf_kind(t: type) -> int:
  kind = _KIND.get(t)
  if kind is None:
    if issubclass(t, np.ndarray):
      kind = _ARRAY
    elif issubclass(t, jax.Array):
      kind = _JAX_ARRAY
    elif issubclass(t, np.generic):
      kind = _SCALAR
    elif issubclass(t, complex):
      kind = _COMPLEX
    else:
      kind = _OTHER
    _KIND[t] = kind
  return kind


def _unsupported(x: Any) -> TypeError:
  return TypeError(
    f'can not serialize {type(x).__name__!r} object: msgpack_serialize takes trees of dict, '
    'list, tuple, Python scalars, str, bytes, numpy/jax arrays and numpy scalars; convert '
    'other objects with to_state_dict (to_bytes does this) or register a handler with '
    'register_serialization_state'
  )


def _jax_to_numpy(x) -> np.ndarray:
  try:
    return np.asarray(x)
  except TypeError as e:  # typed PRNG keys (an extended dtype), tracers
    raise TypeError(
      f'cannot serialize a jax array of dtype {x.dtype}: {e} (for a typed PRNG key, store '
      'jax.random.key_data(key) instead)'
    ) from e


class _Writer:
  """Appends the msgpack encoding of leaves to ``pieces``."""

  __slots__ = ('pieces', 'pack')

  def __init__(self):
    self.pieces: list = []
    self.pack = msgpack.Packer().pack  # autoreset: returns the bytes of one object

  def key(self, k: Any) -> None:
    if type(k) is str:
      packed = _KEY_CACHE.get(k)
      if packed is None:
        packed = self.pack(k)
        if len(_KEY_CACHE) < _KEY_CACHE_MAX:
          _KEY_CACHE[k] = packed
      self.pieces.append(packed)
    elif type(k) in _CONTAINERS:
      raise TypeError(
        f'can not serialize {type(k).__name__!r} object as a map key: msgpack map keys must '
        'be scalars (str, int, float, bool, None, bytes or numpy scalars)'
      )
    else:
      self.leaf(k)

  def leaf(self, x: Any) -> None:
    t = type(x)
    if t in _NATIVE:
      self.pieces.append(self.pack(x))
      return
    kind = _KIND.get(t)
    if kind is None:
      kind = _leaf_kind(t)
    if kind is _ARRAY:
      self.array(x)
    elif kind is _JAX_ARRAY:
      self.array(_jax_to_numpy(x))
    elif kind is _SCALAR:
      self.pieces += array_codec.array_pieces(np.asarray(x), array_codec.EXT_SCALAR)
    elif kind is _COMPLEX:
      payload = array_codec.complex_payload(x)
      self.pieces += (array_codec.ext_header(array_codec.EXT_COMPLEX, len(payload)), payload)
    else:
      raise _unsupported(x)

  def array(self, arr: np.ndarray) -> None:
    if not chunking.needs_chunking(arr):
      self.pieces += array_codec.array_pieces(arr)
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
      pieces += array_codec.array_pieces(chunk)


def encode_pieces(tree: Any) -> list:
  """The msgpack encoding of ``tree`` as a list of bytes-like pieces (see module doc)."""
  w = _Writer()
  pieces, leaf, key = w.pieces, w.leaf, w.key
  map_header, array_header = array_codec.map_header, array_codec.array_header
  # The common leaf, inlined: a small native-order array (numpy, or jax fetched to the host).
  kinds, keys, asarray, prefix = _KIND.get, _KEY_CACHE.get, np.asarray, array_codec.record_prefix
  small = min(array_codec.SMALL_PAYLOAD, chunking.MAX_CHUNK_SIZE)
  parents: list = []  # (iterator, yields (key, value) pairs) of unfinished containers
  current, is_map = iter((tree,)), False
  while True:
    for item in current:
      if is_map:
        k = item[0]
        packed = keys(k) if type(k) is str else None
        if packed is None:
          key(k)
        else:
          pieces.append(packed)
        item = item[1]
      t = type(item)
      if t is dict:
        pieces.append(map_header(len(item)))
        parents.append((current, is_map))
        current, is_map = iter(item.items()), True
        break
      if t is list or t is tuple:
        pieces.append(array_header(len(item)))
        parents.append((current, is_map))
        current, is_map = iter(item), False
        break
      kind = kinds(t)
      if kind is _JAX_ARRAY or kind is _ARRAY:
        try:
          arr = asarray(item)
        except TypeError:
          arr = None  # leaf() raises the explanatory error
        if arr is not None and arr.nbytes <= small and arr.dtype.isnative:
          pieces.append(prefix(arr.shape, arr.dtype, array_codec.EXT_ARRAY))
          pieces.append(arr.tobytes())
          continue
      leaf(item)
    else:  # the current container is done
      if not parents:
        return pieces
      current, is_map = parents.pop()


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
    TypeError: a leaf of an unsupported type, or a container used as a map key.
    ValueError: an array of an unsupported dtype (object, structured, string).

  Example:
    >>> import numpy as np
    >>> from flaxen import serialization
    >>> serialization.msgpack_serialize({'a': 1})
    b'\\x81\\xa1a\\x01'
  """
  del in_place  # the tree is never modified
  return b''.join(encode_pieces(pytree))


# --- decoding ------------------------------------------------------------------


def as_byte_buffer(data: Any) -> Any:
  """``data`` as something msgpack reads byte by byte (any buffer; multi-byte items are cast).

  Raises:
    TypeError: ``data`` does not support the buffer protocol (e.g. ``str``).
  """
  if type(data) is bytes or type(data) is bytearray:
    return data
  try:
    view = memoryview(data)
  except TypeError:
    raise TypeError(
      f'msgpack_restore expects bytes (or another bytes-like object), got {type(data).__name__}'
    ) from None
  if view.format in ('B', 'b', 'c') and view.ndim == 1:
    return view
  if view.c_contiguous:
    return view.cast('B')
  return view.tobytes()


@set_module('flaxen.serialization')
def msgpack_restore(encoded_pytree: bytes) -> Any:
  """Decodes msgpack bytes written by ``msgpack_serialize`` / ``to_bytes``.

  Safe on untrusted input: nothing is unpickled or executed, arrays are checked
  against their payload length before they are built, chunked arrays against
  their declared shape, and lengths can never exceed the input's size.

  Args:
    encoded_pytree: the bytes (any object with the buffer protocol: ``bytes``,
      ``bytearray``, ``memoryview``, a ``uint8`` numpy array, ...).

  Returns:
    A tree of dicts and lists with Python scalars, strings, bytes, numpy
    arrays (read-only views of the decoded buffer, or fresh arrays for chunked
    ones) and numpy scalars as leaves.

  Raises:
    MsgpackDecodeError: the bytes are not a valid encoding (for any reason).
    TypeError: ``encoded_pytree`` is not bytes-like.
  """
  data = as_byte_buffer(encoded_pytree)
  hook = array_decode.ExtHook()
  tree = view_decode.decode_views(data, hook)  # large inputs: arrays as views, no copies
  if tree is None:
    hook = array_decode.ExtHook()
    try:
      tree = msgpack.unpackb(data, ext_hook=hook.hook, raw=False, strict_map_key=False)
    except MsgpackDecodeError:
      raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError,
            msgpack.UnpackException) as e:
      raise MsgpackDecodeError(f'invalid msgpack data: {type(e).__name__}: {e}') from e
  size = memoryview(data).nbytes
  if (size - hook.payload_bytes) * _WALK_VS_SCAN < size:
    return chunking.reassemble_all(tree)  # few containers: walking them beats scanning the data
  if type(data) is memoryview:
    chunked = _CHUNK_SEARCH(data) is not None
  else:
    chunked = _CHUNK_MARK in data
  return chunking.reassemble_all(tree) if chunked else tree
