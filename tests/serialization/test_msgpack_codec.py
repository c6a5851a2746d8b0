"""msgpack_serialize / msgpack_restore on plain trees: encoding of containers and natives,
type strictness, and the single error type for malformed bytes."""

import collections

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flaxen import serialization
from flaxen.core import freeze

natives = st.one_of(
  st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False),
  st.text(max_size=40), st.binary(max_size=300),
)  # fmt: skip
trees = st.recursive(
  natives,
  lambda kids: st.one_of(st.lists(kids, max_size=20), st.dictionaries(st.text(max_size=8), kids, max_size=20)),
  max_leaves=60,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(trees)
def test_native_trees_encode_like_msgpack_and_round_trip(tree):
  data = serialization.msgpack_serialize(tree)
  assert data == msgpack.packb(tree, use_bin_type=True)
  assert serialization.msgpack_restore(data) == tree


@pytest.mark.parametrize('n', [0, 15, 16, 65535, 65536])
def test_large_container_headers(n):
  d = {str(i): i for i in range(n)}
  assert serialization.msgpack_serialize(d) == msgpack.packb(d)
  xs = list(range(n))
  assert serialization.msgpack_serialize(xs) == msgpack.packb(xs)


def test_tuples_are_msgpack_arrays_and_restore_as_lists():
  assert serialization.msgpack_serialize((1, (2,))) == msgpack.packb([1, [2]])
  assert serialization.msgpack_restore(serialization.msgpack_serialize((1, (2,)))) == [1, [2]]


@pytest.mark.parametrize(
  'leaf',
  [freeze({'a': 1}), collections.OrderedDict(a=1), object(), {1, 2}],
  ids=['FrozenDict', 'OrderedDict', 'object', 'set'],
)
def test_unsupported_types_raise_type_error(leaf):
  with pytest.raises(TypeError, match='can not serialize'):
    serialization.msgpack_serialize({'x': leaf})


def test_tree_is_never_modified():
  arr = np.arange(10, dtype=np.float32)
  tree = {'a': arr, 'b': [arr]}
  for in_place in (False, True):
    serialization.msgpack_serialize(tree, in_place=in_place)
    assert tree['a'] is arr and tree['b'][0] is arr and list(tree) == ['a', 'b']


def test_restore_accepts_bytes_like_and_rejects_other_types():
  data = serialization.msgpack_serialize({'a': np.ones(2)})
  for buf in (data, bytearray(data), memoryview(data)):
    np.testing.assert_array_equal(serialization.msgpack_restore(buf)['a'], np.ones(2))
  with pytest.raises(TypeError, match='expects bytes'):
    serialization.msgpack_restore('not bytes')


@pytest.mark.parametrize(
  'data',
  [
    b'',  # empty
    b'\x82\xa1a',  # truncated map
    msgpack.packb({'a': 1}) + b'\x00',  # trailing data
    b'\xc1',  # never-used byte
    b'\x81\x91\x01\x02',  # list map key
    b'\xa2\xff\xfe',  # invalid utf-8
    b'\xdf\xff\xff\xff\xff',  # map claiming 4 billion entries
    b'\xc6\xff\xff\xff\xff\x00',  # bin claiming 4 GiB
    b'\x91' * 5000 + b'\xc0',  # nested deeper than msgpack's stack
    msgpack.packb(msgpack.ExtType(7, b'abc')),  # unknown extension
  ],
  ids=['empty', 'truncated', 'trailing', 'reserved', 'list_key', 'utf8', 'huge_map',
       'huge_bin', 'deep', 'unknown_ext'],
)  # fmt: skip
def test_malformed_bytes_raise_decode_error(data):
  with pytest.raises(serialization.DecodeError):
    serialization.msgpack_restore(data)


def test_decode_error_is_a_value_error_with_cause():
  with pytest.raises(ValueError) as info:
    serialization.msgpack_restore(b'\x82\xa1a')
  assert isinstance(info.value, serialization.DecodeError)
  assert 'invalid msgpack data' in str(info.value)


@pytest.mark.parametrize('key', [1, -1, 2**63, None, 2.5, True, b'raw', np.int32(3)],
                         ids=['int', 'negative', 'uint64', 'none', 'float', 'bool', 'bytes', 'np'])
def test_every_map_key_written_is_read_back(key):
  # the reference writes and reads these keys; flaxen used to refuse reading them
  out = serialization.msgpack_restore(serialization.msgpack_serialize({key: 'v', 'k': [key]}))
  assert out[key] == 'v' and out['k'] == [key]


def test_container_keys_are_refused_when_writing():
  with pytest.raises(TypeError, match="can not serialize 'tuple' object"):
    serialization.msgpack_serialize({(1, 2): 3})


def test_msgpack_timestamps_decode_as_in_the_reference():
  ts = msgpack.Timestamp(1, 5)
  assert serialization.msgpack_restore(msgpack.packb({'t': [ts]})) == {'t': [ts]}


@pytest.mark.parametrize('depth', [1000, 1020])
def test_deep_trees_that_decode_also_encode(depth):
  data = b'\x91' * depth + b'\xc0'
  tree = serialization.msgpack_restore(data)
  assert serialization.msgpack_serialize(tree) == data
  nested = {'leaf': np.arange(2)}
  for i in range(depth):
    nested = {'k': nested} if i % 2 else [nested]
  again = serialization.msgpack_restore(serialization.msgpack_serialize(nested))
  for i in reversed(range(depth)):
    again = again['k'] if i % 2 else again[0]
  np.testing.assert_array_equal(again['leaf'], np.arange(2))


def test_any_buffer_is_accepted_as_input():
  data = serialization.msgpack_serialize({'a': np.arange(3), 'b': 'x'})
  as_u8 = np.frombuffer(data, np.uint8)  # the reference accepts numpy byte arrays
  for buf in (as_u8, memoryview(as_u8), memoryview(data).cast('B', (len(data),))):
    out = serialization.msgpack_restore(buf)
    np.testing.assert_array_equal(out['a'], np.arange(3))
  padded = data + b'\x00' * (-len(data) % 4)
  wide = memoryview(bytearray(padded)).cast('I')  # multi-byte items: read as raw bytes
  with pytest.raises(serialization.DecodeError):  # (the zero padding is trailing data)
    serialization.msgpack_restore(wide)
  if len(padded) == len(data):
    assert serialization.msgpack_restore(wide)['b'] == 'x'
  with pytest.raises(TypeError, match='bytes-like'):
    serialization.msgpack_restore(12)
