"""to_bytes / from_bytes, and a fuzz test: mutated payloads only ever raise DecodeError."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flaxen import errors, serialization, struct
from flaxen.core import FrozenDict, freeze

Pair = collections.namedtuple('Pair', ['first', 'second'])


@struct.dataclass
class State:
  step: int
  params: dict
  name: str = struct.field(pytree_node=False, default='s')


def _params():
  return {'Dense_0': {'kernel': np.arange(6, dtype=np.float32).reshape(2, 3),
                      'bias': np.zeros(3, np.float32)}}  # fmt: skip


def test_round_trip_keeps_structure_and_restores_numpy():
  tree = {
    'state': State(step=3, params=_params(), name='kept'),
    'opt': optax.adam(0.1).init(jax.tree_util.tree_map(jnp.asarray, _params())),
    'pair': Pair(np.int32(1), [2.5, None]),
    'frozen': freeze({'b': 1, 'a': jnp.ones(2, jnp.bfloat16)}),
    'scalars': (1, 'x', b'y', complex(1, -1)),
  }
  data = serialization.to_bytes(tree)
  out = serialization.from_bytes(tree, data)  # only the target's structure is used
  assert jax.tree_util.tree_structure(out) == jax.tree_util.tree_structure(tree)
  assert out['state'].name == 'kept' and type(out['frozen']) is FrozenDict
  assert type(out['state'].params['Dense_0']['kernel']) is np.ndarray
  np.testing.assert_array_equal(out['state'].params['Dense_0']['kernel'], _params()['Dense_0']['kernel'])
  assert out['scalars'] == (1, 'x', b'y', complex(1, -1))
  assert serialization.to_bytes(out) == data


def test_to_bytes_is_msgpack_of_the_state_dict():
  tree = {'p': Pair(1, freeze({'k': np.ones(2)}))}
  expected = serialization.msgpack_serialize(serialization.to_state_dict(tree))
  assert serialization.to_bytes(tree) == expected


def test_mismatched_target_raises_decode_error_with_path():
  data = serialization.to_bytes({'params': {'Dense_0': {'bias': np.zeros(2)}}})
  target = {'params': {'Dense_0': {'kernel': np.zeros(2), 'bias': np.zeros(2)}}}
  with pytest.raises(serialization.DecodeError, match=r'\./params/Dense_0/kernel') as info:
    serialization.from_bytes(target, data)
  assert isinstance(info.value, ValueError) and isinstance(info.value, errors.StateMismatchError)
  assert str(info.value).startswith(
    "The target dict keys and state dict keys do not match, target dict contains keys "
    "{'kernel'} which are not present in state dict at path ./params/Dense_0")


def test_errors_of_user_handlers_pass_through_unchanged():
  class Strict:
    pass

  def restore(obj, state):
    raise KeyError('from the handler')

  serialization.register_serialization_state(Strict, lambda s: {}, restore)
  with pytest.raises(KeyError, match='from the handler') as info:
    serialization.from_bytes({'s': Strict()}, serialization.to_bytes({'s': Strict()}))
  assert type(info.value) is KeyError  # not wrapped, as in the reference


# --- fuzzing ---------------------------------------------------------------------


def _seeds():
  trees = [
    {'params': _params(), 'step': 3},
    {'a': [np.int8(3), 2.5, None, 'txt', b'by', complex(1, 2)],
     'b': (jnp.ones(2, jnp.bfloat16), np.array(True), np.zeros((0, 3)))},
    Pair(np.float64(1.0), {'x': np.arange(3, dtype=np.uint16)}),
    freeze({'f': {'g': np.arange(4, dtype=np.complex64)}}),
  ]  # fmt: skip
  seeds = [(t, serialization.to_bytes(t)) for t in trees]
  old = serialization.MAX_CHUNK_SIZE
  serialization.MAX_CHUNK_SIZE = 16  # chunked arrays too
  try:
    chunked = {'big': np.arange(20, dtype=np.int32).reshape(4, 5), 'small': np.ones(1)}
    seeds.append((chunked, serialization.to_bytes(chunked)))
  finally:
    serialization.MAX_CHUNK_SIZE = old
  return seeds


SEEDS = _seeds()
# headers that claim far more data than any input holds
EVIL = [
  b'\xc9\xff\xff\xff\xff\x01', b'\xdd\xff\xff\xff\xff', b'\xdf\x7f\xff\xff\xff',
  b'\xc6\x7f\xff\xff\xff', b'\x93\x91\xcf\x00\x00\x00\xe8\xd4\xa5\x10\x00\xa7float32\xc4\x00',
  b'\xa6object', b'\xa2V8', b'\xb9__msgpack_chunked_array__', b'\x91\xcf\xff\xff\xff\xff\xff\xff\xff\xff',
  b'\xd6\xff\x00\x00\x00\x01', b'\xc7\x03\x02\x92\x01\x02',
]  # fmt: skip


@st.composite
def mutated_payloads(draw):
  target, data = draw(st.sampled_from(SEEDS))
  data = bytearray(data)
  for _ in range(draw(st.integers(1, 3))):
    kind = draw(st.sampled_from(['flip', 'set', 'truncate', 'insert', 'delete', 'splice', 'evil']))
    pos = draw(st.integers(0, len(data)))
    at = min(pos, len(data) - 1)
    if kind == 'flip' and data:
      data[at] ^= 1 << draw(st.integers(0, 7))
    elif kind == 'set' and data:
      data[at] = draw(st.integers(0, 255))
    elif kind == 'truncate':
      del data[pos:]
    elif kind == 'insert':
      data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
    elif kind == 'delete':
      del data[pos : pos + draw(st.integers(1, 8))]
    elif kind == 'splice':
      other = draw(st.sampled_from(SEEDS))[1]
      a = draw(st.integers(0, len(other)))
      b = draw(st.integers(a, len(other)))
      data[pos : pos + draw(st.integers(0, 8))] = other[a:b]
    elif kind == 'evil':
      data[pos : pos + draw(st.integers(0, 6))] = draw(st.sampled_from(EVIL))
  return target, bytes(data)


@settings(
  max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)  # fmt: skip
@given(mutated_payloads())
def test_fuzz_only_decode_error_escapes(case):
  target, data = case
  try:
    serialization.msgpack_restore(data)
  except serialization.DecodeError:
    pass
  try:
    serialization.from_bytes(target, data)
  except serialization.DecodeError:
    pass


BIG_TARGET = {'w': np.arange(20_000, dtype=np.float32)}  # an 80 KB ext payload
BIG = serialization.to_bytes(BIG_TARGET)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, 40), st.sampled_from([b'', *EVIL]))  # fmt: skip
def test_fuzz_large_array_headers(edits, at, insert):
  # the header of a payload above 64 KiB is parsed in place, not by msgpack: mutate it
  data = bytearray(BIG)
  for pos, value in edits:
    data[pos] = value
  data[at:at] = insert
  for fn in (serialization.msgpack_restore, lambda d: serialization.from_bytes(BIG_TARGET, d)):
    try:
      fn(bytes(data))
    except serialization.DecodeError:
      pass


def test_seeds_decode_unmutated(monkeypatch):
  for target, data in SEEDS[:-1]:
    assert serialization.to_bytes(serialization.from_bytes(target, data)) == data
  monkeypatch.setattr(serialization, 'MAX_CHUNK_SIZE', 16)
  target, data = SEEDS[-1]
  assert serialization.to_bytes(serialization.from_bytes(target, data)) == data
