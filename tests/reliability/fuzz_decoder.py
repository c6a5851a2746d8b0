"""Structured fuzzing of the msgpack decoder (run by test_decoder_fuzz.py in a capped process).

Inputs are *structured*, not only flipped bits: valid documents made from random
trees (arrays of every supported dtype and many shapes, numpy scalars, complex
numbers, bytes, strings, chunked arrays, every map-key type, deep nesting),
then mutated at the structure level:

* array headers: wrong dimension counts, negative / huge / non-integer
  dimensions, dtype names that are not numeric (``object``, ``<U3``, ``V8``,
  very long, non-ASCII), data shorter or longer than declared, empty arrays with
  huge leading dimensions, shaped numpy scalars;
* chunked-array records: missing or extra keys, wrong shapes, chunks of
  another dtype or rank, gaps in the chunk numbering;
* containers: declared lengths beyond the input, map keys of every msgpack type
  (including unhashable ones), nesting past msgpack's limit;
* bytes: truncation at every kind of boundary, bit flips, splices of two
  documents, random garbage.

Every input goes to ``msgpack_restore`` and, for valid trees, ``from_bytes``
with the original target. The promise checked: the only exception ever raised
is ``MsgpackDecodeError`` (mismatches are ``StateMismatchError``, a subclass);
every array returned can be iterated and converted (``tolist``) without
exceeding the memory cap; whatever decodes can be encoded again.

Usage: ``python fuzz_decoder.py <seed> <count> <memory cap in MiB>``; prints a
JSON summary line. Input ``i`` is generated from ``random.Random(seed * 1_000_003 + i)``,
so any reported input can be replayed alone.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time

import msgpack
import numpy as np

from flaxen import serialization
from flaxen._src.serialization import chunking

DTYPES = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
          'float16', 'float32', 'float64', 'complex64', 'complex128', 'bfloat16',
          'float8_e4m3fn', 'float8_e5m2', 'int4', 'uint4', 'datetime64[s]', 'timedelta64[ms]']
BAD_DTYPES = ['object', '<U3', 'V8', 'S4', 'O', 'float32' * 20, 'flöat32', '', 'f4,i4', 'int7',
              'float31', 'M8', '|b1', 'complex32']


def rand_array(rng: random.Random) -> np.ndarray:
  name = rng.choice(DTYPES)
  ndim = rng.choice([0, 1, 1, 2, 3, 5])
  shape = tuple(rng.choice([0, 1, 2, 3, 7]) for _ in range(ndim))
  dtype = np.dtype(name) if name not in ('bfloat16', 'float8_e4m3fn', 'float8_e5m2', 'int4',
                                         'uint4') else np.dtype(getattr(__import__('ml_dtypes'), name))
  raw = np.random.default_rng(rng.getrandbits(32)).integers(0, 256, int(np.prod(shape)) * dtype.itemsize,
                                                            dtype=np.uint8)
  return raw.view(dtype).reshape(shape) if raw.size else np.zeros(shape, dtype)


def rand_key(rng: random.Random):
  return rng.choice([lambda: f'k{rng.randrange(50)}', lambda: rng.randrange(-5, 5), lambda: None,
                     lambda: rng.random(), lambda: True, lambda: b'b' * rng.randrange(3),
                     lambda: np.int16(rng.randrange(9))])()


def rand_leaf(rng: random.Random):
  return rng.choice([
    lambda: rand_array(rng), lambda: rand_array(rng)[()] if rng.random() < 0.5 else None,
    lambda: complex(rng.random(), -rng.random()), lambda: rng.randrange(-2**63, 2**63),
    lambda: 'ü' * rng.randrange(4), lambda: bytes(rng.randrange(256) for _ in range(5)),
    lambda: rng.random(), lambda: rng.random() < 0.5,
  ])()


def rand_tree(rng: random.Random, depth: int = 0):
  if depth > 4 or rng.random() < 0.3:
    return rand_leaf(rng)
  if rng.random() < 0.5:
    return [rand_tree(rng, depth + 1) for _ in range(rng.randrange(4))]
  return {rand_key(rng): rand_tree(rng, depth + 1) for _ in range(rng.randrange(5))}


def state_tree(rng: random.Random):
  """A tree with str keys only (what to_bytes writes), for from_bytes round trips."""
  if rng.random() < 0.3:
    return rand_array(rng)
  return {f'p{i}': state_tree(rng) if rng.random() < 0.4 else rand_array(rng)
          for i in range(rng.randrange(1, 4))}


def ext(code: int, payload: bytes) -> bytes:
  return msgpack.packb(msgpack.ExtType(code, payload))


def array_record(rng: random.Random) -> bytes:
  """One ext record with a mutated header (see the module doc)."""
  dims = rng.choice([
    [], [3], [2, 2], [-1], [2**32 - 1, 0], [0, 2**40], [2**62, 2**62], [1.5], ['x'], [[2]],
    [None], list(range(70)), [10**20], [2**20, 0, 9], [0],
  ])
  name = rng.choice(DTYPES + BAD_DTYPES)
  try:
    itemsize = np.dtype(name).itemsize
  except TypeError:
    itemsize = 1
  n = 1
  for d in dims:
    n = n * d if isinstance(d, int) and d >= 0 else n
  length = rng.choice([0, 1, max(0, min(n * itemsize, 4096)), 7, 4096])
  try:
    header = msgpack.packb([dims, name, b'\x00' * length])
  except (OverflowError, TypeError, ValueError):
    header = msgpack.packb([[1], 'int8', b'\x00'])
  if rng.random() < 0.2:  # scramble inside the ext payload
    header = bytearray(header)
    header[rng.randrange(len(header))] = rng.randrange(256)
    header = bytes(header)
  return ext(rng.choice([1, 1, 1, 3, 2, 4, 0, 127]), header)


def chunk_record(rng: random.Random) -> bytes:
  arr = rand_array(rng).reshape(-1)
  doc = {chunking.CHUNKED_KEY: rng.choice([True, True, 1, False]),
         'shape': {str(i): d for i, d in enumerate(rng.choice([[arr.size], [arr.size + 1],
                                                               [2**32, 0], [-1], [arr.size, 1]]))},
         'chunks': {str(i): c for i, c in enumerate(np.array_split(arr, rng.randrange(1, 4)))}}
  if rng.random() < 0.3:
    doc['chunks'] = {'0': arr, '2': arr}
  if rng.random() < 0.2:
    doc['extra'] = 1
  if rng.random() < 0.2:
    doc['chunks'] = {'0': arr.view(np.uint8), '1': arr.view(np.int8)}
  if rng.random() < 0.2:
    doc['chunks'] = {'0': arr.reshape(1, -1)}
  return serialization.msgpack_serialize({'c': doc} if rng.random() < 0.5 else doc)


def containers(rng: random.Random) -> bytes:
  return rng.choice([
    lambda: b'\xdf\xff\xff\xff\xff' + b'\xc0' * rng.randrange(8),  # map of 4 billion entries
    lambda: b'\xdd\x7f\xff\xff\xff',  # array of 2 billion
    lambda: b'\xc6\xff\xff\xff\xf0\x00',  # bin of 4 GiB
    lambda: b'\x81' + msgpack.packb([1, 2]) + b'\x01',  # list key
    lambda: b'\x81' + array_record(rng) + b'\x01',  # array key
    lambda: b'\x91' * rng.choice([100, 1000, 1023, 1024, 5000]) + b'\xc0',
    lambda: b'\x81\xa1a' + b'\x81\xa1a' * rng.randrange(2000) + b'\xc0',
    lambda: msgpack.packb(msgpack.Timestamp(rng.randrange(2**31), 0)),
  ])()


def mutate(rng: random.Random, data: bytes) -> bytes:
  kind = rng.randrange(5)
  if kind == 0 and data:  # truncate
    return data[:rng.randrange(len(data))]
  if kind == 1 and data:  # flip bits
    out = bytearray(data)
    for _ in range(rng.randrange(1, 8)):
      out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)
  if kind == 2:  # splice
    return data[: len(data) // 2] + containers(rng) + data[len(data) // 2:]
  if kind == 3:  # garbage tail
    return data + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
  return data


def check(value) -> None:
  """Touch everything that came back: iterate arrays and convert them (without recursion)."""
  pending = [value]
  while pending:
    v = pending.pop()
    if isinstance(v, np.ndarray):
      if v.ndim and v.size == 0:
        list(v)  # an empty array claiming billions of rows would exhaust memory here
      if v.size <= 4096:
        v.tolist()
    elif isinstance(v, dict):
      pending.extend(v.values())
    elif isinstance(v, list):
      pending.extend(v)


def run_one(rng: random.Random, stats: dict) -> None:
  kind = rng.randrange(6)
  target = None
  if kind == 0:
    tree = state_tree(rng)
    data = serialization.to_bytes(tree)
    target = tree
  elif kind == 1:
    data = serialization.msgpack_serialize(rand_tree(rng))
  elif kind == 2:
    data = array_record(rng)
  elif kind == 3:
    data = chunk_record(rng)
  elif kind == 4:
    data = containers(rng)
  else:
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
  if rng.random() < 0.6:
    data = mutate(rng, data)
  try:
    value = serialization.msgpack_restore(data)
  except serialization.MsgpackDecodeError:
    stats['rejected'] += 1
    return
  stats['decoded'] += 1
  check(value)
  serialization.msgpack_restore(serialization.msgpack_serialize(value))  # round trip
  if target is not None:
    try:
      serialization.from_bytes(target, data)
    except serialization.MsgpackDecodeError:
      stats['mismatched'] += 1


def main() -> None:
  seed, count, cap_mib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
  if len(sys.argv) > 4 and sys.argv[4] == 'weakened':  # control: without the empty-array limit
    from flaxen._src.serialization import array_decode

    array_decode.MAX_EMPTY_EXTENT = 2**62
  with open('/proc/self/status') as f:
    vm = next(int(line.split()[1]) for line in f if line.startswith('VmSize:')) * 1024
  cap = vm + cap_mib * 2**20
  resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
  stats = {'inputs': 0, 'decoded': 0, 'rejected': 0, 'mismatched': 0, 'escaped': []}
  start = time.monotonic()
  slowest = (0.0, -1)
  for i in range(count):
    stats['inputs'] += 1
    t = time.perf_counter()
    try:
      run_one(random.Random(seed * 1_000_003 + i), stats)
    except Exception as e:  # noqa: BLE001 - anything else is a broken promise
      stats['escaped'].append(f'input {i}: {type(e).__name__}: {str(e)[:200]}')
    slowest = max(slowest, (time.perf_counter() - t, i))
  stats['slowest'] = [round(slowest[0], 3), slowest[1]]
  stats['seconds'] = round(time.monotonic() - start, 1)
  stats['cap_mib'] = cap_mib
  print('FUZZ ' + json.dumps(stats))


if __name__ == '__main__':
  main()
