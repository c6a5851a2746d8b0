"""Chunking of giant arrays, and their checked reassembly.

msgpack limits one object to 4 GiB (and the reference keeps well below), so an
array whose ``nbytes`` exceeds ``MAX_CHUNK_SIZE`` is written as the map

    {"__msgpack_chunked_array__": True,
     "shape": {"0": d0, "1": d1, ...},
     "chunks": {"0": flat_chunk_0, "1": flat_chunk_1, ...}}

where each chunk holds ``max(1, int(MAX_CHUNK_SIZE / itemsize))`` elements of
the C-order flattened array (the last one fewer).

``MAX_CHUNK_SIZE`` is a module global read at call time; the public
``flaxen.serialization.MAX_CHUNK_SIZE`` forwards reads and writes here, so
``serialization.MAX_CHUNK_SIZE = 728`` affects the next call.

After decoding, ``reassemble_all`` replaces every chunked-array map of the tree
(walked without recursion) by its array. Reassembly checks the map before
allocating: exactly the three keys, a shape of non-negative ints, chunks that
are 1-D arrays of one dtype, chunk sizes adding up to the product of the shape,
and (for an empty result) the same limit on rows before the first zero
dimension as for any array (``array_decode``). The chunks were already decoded
from the input, so the concatenated array is no larger than the input justifies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.serialization import array_decode

MAX_CHUNK_SIZE = 2**30
CHUNKED_KEY = '__msgpack_chunked_array__'
_KEYS = frozenset((CHUNKED_KEY, 'shape', 'chunks'))


def needs_chunking(arr: np.ndarray) -> bool:
  """Whether ``arr`` is larger than ``MAX_CHUNK_SIZE`` bytes."""
  return arr.size * arr.dtype.itemsize > MAX_CHUNK_SIZE


def chunk_length(itemsize: int) -> int:
  """Number of elements per chunk for the current ``MAX_CHUNK_SIZE``."""
  return max(1, int(MAX_CHUNK_SIZE / itemsize))


def split(arr: np.ndarray) -> Iterator[np.ndarray]:
  """Yields the flat C-order chunks of ``arr`` (views unless ``arr`` is not C-contiguous)."""
  flat = arr.reshape(-1)
  step = chunk_length(arr.dtype.itemsize)
  for start in range(0, flat.size, step):
    yield flat[start : start + step]


def _indexed(d, what: str) -> list:
  """The values of ``{"0": v0, "1": v1, ...}`` in index order."""
  if type(d) is not dict:
    raise MsgpackDecodeError(f'chunked array: "{what}" must be a map, got {type(d).__name__}')
  try:
    return [d[str(i)] for i in range(len(d))]
  except KeyError:
    raise MsgpackDecodeError(
      f'chunked array: the keys of "{what}" must be "0", "1", ... without gaps'
    ) from None


def reassemble(d: dict) -> np.ndarray:
  """Rebuilds the array of a decoded chunked-array map.

  Raises:
    MsgpackDecodeError: the map is malformed, or its chunks do not add up to
      its declared shape.
  """
  if d.keys() != _KEYS or d[CHUNKED_KEY] is not True:
    raise MsgpackDecodeError(
      f'a chunked array map must have exactly the keys {sorted(_KEYS)} with '
      f'"{CHUNKED_KEY}": true, got keys {sorted(map(str, d))}'
    )
  shape = _indexed(d['shape'], 'shape')
  if len(shape) > 64 or not all(type(n) is int and n >= 0 for n in shape):
    raise MsgpackDecodeError(f'chunked array: invalid shape {shape}')
  chunks = _indexed(d['chunks'], 'chunks')
  if not chunks:
    raise MsgpackDecodeError('chunked array: no chunks')
  dtype = getattr(chunks[0], 'dtype', None)
  for c in chunks:
    if type(c) is not np.ndarray or c.ndim != 1 or c.dtype != dtype:
      raise MsgpackDecodeError('chunked array: chunks must be 1-D arrays of one dtype')
  total = sum(c.size for c in chunks)
  if total != math.prod(shape):
    raise MsgpackDecodeError(
      f'chunked array: declared shape {tuple(shape)} needs {math.prod(shape)} elements but '
      f'the chunks hold {total}'
    )
  if total == 0:
    array_decode.check_empty_extent(tuple(shape))
  return np.concatenate(chunks).reshape(shape)


def reassemble_all(tree):
  """``tree`` with every chunked-array map (at any depth, or the root) rebuilt into its array.

  Raises:
    MsgpackDecodeError: a chunked-array map is malformed (see ``reassemble``).
  """
  if type(tree) is dict and CHUNKED_KEY in tree:
    return reassemble(tree)
  pending = [tree]
  while pending:
    node = pending.pop()
    entries: Iterable[tuple[Any, Any]]
    if type(node) is dict:
      entries = node.items()
    elif type(node) is list:
      entries = enumerate(node)
    else:
      continue
    for key, value in list(entries):
      if type(value) is dict and CHUNKED_KEY in value:
        node[key] = reassemble(value)
      elif type(value) is dict or type(value) is list:
        pending.append(value)
  return tree
