"""Chunked giant arrays and the public ``MAX_CHUNK_SIZE`` (read at call time)."""

import math
import tracemalloc

import msgpack
import numpy as np
import pytest

from flaxen import serialization


def _ext(arr):
  payload = msgpack.packb((list(arr.shape), arr.dtype.name, arr.tobytes()), use_bin_type=True)
  return msgpack.ExtType(1, payload)


def spec_chunked(arr, max_chunk_size):
  """The documented chunked form, built with msgpack's own packer."""
  per = max(1, int(max_chunk_size / arr.dtype.itemsize))
  flat = np.ascontiguousarray(arr).reshape(-1)
  chunks = [flat[i : i + per] for i in range(0, flat.size, per)]
  return {
    '__msgpack_chunked_array__': True,
    'shape': {str(i): d for i, d in enumerate(arr.shape)},
    'chunks': {str(i): _ext(c) for i, c in enumerate(chunks)},
  }


@pytest.fixture
def chunk_size(monkeypatch):
  def set_size(n):
    monkeypatch.setattr(serialization, 'MAX_CHUNK_SIZE', n)

  return set_size


def test_default_and_forwarding():
  from flaxen._src.serialization import chunking

  assert serialization.MAX_CHUNK_SIZE == 2**30
  from flaxen.serialization import MAX_CHUNK_SIZE

  assert MAX_CHUNK_SIZE == 2**30
  assert 'MAX_CHUNK_SIZE' in dir(serialization)
  old = serialization.MAX_CHUNK_SIZE
  serialization.MAX_CHUNK_SIZE = 100
  try:
    assert chunking.MAX_CHUNK_SIZE == 100 and serialization.MAX_CHUNK_SIZE == 100
    assert vars(serialization)['MAX_CHUNK_SIZE'] == 100  # a plain module attribute too
  finally:
    serialization.MAX_CHUNK_SIZE = old
  assert chunking.MAX_CHUNK_SIZE == 2**30


def test_monkeypatch_restores_the_default(chunk_size):
  chunk_size(8)
  assert serialization.MAX_CHUNK_SIZE == 8


def test_default_after_monkeypatch():
  assert serialization.MAX_CHUNK_SIZE == 2**30


@pytest.mark.parametrize(
  'arr, size',
  [
    (np.arange(200, dtype=np.float32).reshape(10, 20), 728),  # 182 + 18 elements
    (np.arange(1000, dtype=np.int16).astype(np.int8), 728),
    (np.arange(24, dtype=np.float64).reshape(2, 3, 4).T, 50),  # non-contiguous, 6 per chunk
    (np.arange(5, dtype=np.complex128), 3),  # limit below the itemsize: 1 element per chunk
    (np.arange(12, dtype=np.int32), 47),  # not a multiple of the itemsize: 11 + 1
  ],
  ids=['float32', 'int8', 'transposed', 'one_per_chunk', 'uneven'],
)
def test_chunk_layout_matches_spec_and_round_trips(arr, size, chunk_size):
  chunk_size(size)
  data = serialization.msgpack_serialize({'big': arr, 'small': np.zeros(1, np.int8)})
  expected = {'big': spec_chunked(arr, size), 'small': _ext(np.zeros(1, np.int8))}
  assert data == msgpack.packb(expected, use_bin_type=True)
  out = serialization.msgpack_restore(data)['big']
  assert out.shape == arr.shape and out.dtype == arr.dtype
  np.testing.assert_array_equal(out, arr)


def test_only_arrays_above_the_limit_are_chunked(chunk_size):
  chunk_size(16)
  exact = np.zeros(4, np.float32)  # 16 bytes: not above the limit
  assert b'__msgpack_chunked_array__' not in serialization.msgpack_serialize(exact)
  assert b'__msgpack_chunked_array__' in serialization.msgpack_serialize(np.zeros(5, np.float32))


def test_chunking_applies_everywhere_and_at_call_time(chunk_size):
  arr = np.arange(10, dtype=np.int64)
  tree = {'list': [arr], 'top': arr}
  plain = serialization.to_bytes(tree)
  chunk_size(16)
  chunked = serialization.to_bytes(tree)
  assert plain != chunked and chunked.count(b'__msgpack_chunked_array__') == 2
  assert serialization.to_bytes(serialization.from_bytes(tree, chunked)) == chunked
  # a chunked top-level array restores as an array
  np.testing.assert_array_equal(serialization.msgpack_restore(serialization.msgpack_serialize(arr)), arr)


def _chunk_map(dims, chunks, overrides=None):
  d = {
    '__msgpack_chunked_array__': True,
    'shape': {str(i): n for i, n in enumerate(dims)},
    'chunks': {str(i): _ext(c) if isinstance(c, np.ndarray) else c for i, c in enumerate(chunks)},
  }
  d.update(overrides or {})
  return msgpack.packb({'x': d}, use_bin_type=True)


A = np.arange(4, dtype=np.float32)


@pytest.mark.parametrize(
  'data, match',
  [
    (_chunk_map((10**12,), [A, A]), r'needs 1000000000000 elements but the chunks hold 8'),
    (_chunk_map((3,), [A]), 'needs 3 elements'),
    (_chunk_map((4,), []), 'no chunks'),
    (_chunk_map((8,), [A, A.astype(np.int32)]), 'one dtype'),
    (_chunk_map((8,), [A, A.reshape(2, 2)]), 'one dtype'),
    (_chunk_map((8,), [A, 3]), 'one dtype'),
    (_chunk_map((-1,), [A]), 'invalid shape'),
    (_chunk_map((4,), [A], {'extra': 1}), 'exactly the keys'),
    (_chunk_map((4,), [A], {'__msgpack_chunked_array__': 1}), 'exactly the keys'),
    (_chunk_map((4,), [A], {'shape': [4]}), '"shape" must be a map'),
    (_chunk_map((4,), [A], {'chunks': {'1': _ext(A)}}), 'without gaps'),
  ],
  ids=['huge_shape', 'short', 'empty', 'dtypes', 'ndim', 'not_array', 'negative', 'extra_key',
       'marker', 'shape_list', 'gap'],
)  # fmt: skip
def test_malformed_chunked_arrays_raise_decode_error(data, match):
  tracemalloc.start()
  with pytest.raises(serialization.DecodeError, match=match):
    serialization.msgpack_restore(data)
  _, peak = tracemalloc.get_traced_memory()
  tracemalloc.stop()
  assert peak < 1 << 20


def test_declared_shape_must_match_total_not_chunk_sizes():
  # uneven chunks that add up are accepted: the reassembled array is what the chunks hold
  data = _chunk_map((2, 3), [A[:1], np.arange(5, dtype=np.float32)])
  out = serialization.msgpack_restore(data)['x']
  assert out.shape == (2, 3) and math.isclose(out.sum(), 10.0)


@pytest.mark.parametrize('filler', ['arrays', 'maps'])
def test_chunked_arrays_are_found_whichever_way_they_are_looked_for(filler, monkeypatch):
  # array-heavy input: the decoder walks the containers; map-heavy: it scans for the marker
  from flaxen._src.serialization import msgpack_codec

  monkeypatch.setattr(serialization, 'MAX_CHUNK_SIZE', 4096)
  big = np.arange(5000, dtype=np.float32)  # 20 KB: written in 5 chunks
  tree = {'big': big, 'deep': [{'x': big}]}
  if filler == 'arrays':
    tree['pad'] = [np.full(4096, i, np.uint8) for i in range(200)]  # array bytes dominate
  else:
    tree['pad'] = [{'k': i} for i in range(20_000)]  # containers dominate
  data = serialization.msgpack_serialize(tree)
  plain = serialization.msgpack_serialize({'pad': tree['pad']})  # the same, without chunks
  monkeypatch.setattr(serialization, 'MAX_CHUNK_SIZE', 2**30)
  out = serialization.msgpack_restore(data)
  np.testing.assert_array_equal(out['big'], big)
  np.testing.assert_array_equal(out['deep'][0]['x'], big)
  walks = []
  real = msgpack_codec.chunking.reassemble_all
  monkeypatch.setattr(msgpack_codec.chunking, 'reassemble_all', lambda t: walks.append(1) or real(t))
  serialization.msgpack_restore(plain)
  assert walks == ([1] if filler == 'arrays' else [])  # no marker in the input: no walk needed
