"""The byte-flip matrix: flip every byte of the newest checkpoint; never get silently wrong values.

Each byte of a msgpack checkpoint is labelled by what it encodes: ``header``
(msgpack type and length bytes, and the array headers inside array records:
shape and dtype), ``key`` (the characters of map keys), ``data`` (array bytes)
or ``value`` (other scalars). Every byte is flipped (two bit patterns each) and
the directory restored: the result must be the previous checkpoint's exact
values (the damaged newest is skipped), and naming the damaged file must raise
``CheckpointCorruptedError`` naming the previous one. Flips in the integrity
record, and in the files of an Orbax checkpoint, are detected the same way.
"""

import pathlib
import struct

import numpy as np
import pytest

from flaxen import config
from flaxen.training import checkpoints


def tree(step: int) -> dict:
  rng = np.random.default_rng(step)
  return {
    'params': {'Dense_0': {'kernel': rng.standard_normal((8, 16)).astype(np.float32),
                           'bias': rng.standard_normal(16).astype(np.float32)},
               'Embed_0': {'embedding': rng.integers(0, 100, (10, 4)).astype(np.int32)}},
    'step': step,
    'name': f'run-{step}',
    'scale': np.float64(0.5 * step),
  }


def labels(data: bytes) -> list[str]:
  """The label of every byte of a msgpack document (see the module docstring)."""
  out = [''] * len(data)
  pos = 0

  def mark(start, end, label):
    for i in range(start, end):
      out[i] = label

  def length(fmt_size):
    nonlocal pos
    n = int.from_bytes(data[pos:pos + fmt_size], 'big')
    mark(pos, pos + fmt_size, 'header')
    pos += fmt_size
    return n

  def item(as_key=False):
    nonlocal pos
    b = data[pos]
    mark(pos, pos + 1, 'header')
    pos += 1
    if b <= 0x7F or b >= 0xE0:
      out[pos - 1] = 'key' if as_key else 'value'
    elif 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
      n = b & 0x0F if b <= 0x8F else length(2 if b == 0xDE else 4)
      for _ in range(n):
        item(as_key=True)
        item()
    elif 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
      n = b & 0x0F if b <= 0x9F else length(2 if b == 0xDC else 4)
      for _ in range(n):
        item()
    elif 0xA0 <= b <= 0xBF or b in (0xD9, 0xDA, 0xDB):
      n = b & 0x1F if b <= 0xBF else length(1 << (b - 0xD9))
      mark(pos, pos + n, 'key' if as_key else 'value')
      pos += n
    elif b in (0xC0, 0xC2, 0xC3):
      pass
    elif b in (0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3):
      size = {0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4,
              0xD3: 8}[b]
      mark(pos, pos + size, 'value')
      pos += size
    elif b in (0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8):
      fixed = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
      n = fixed[b] if b in fixed else length(1 << (b - 0xC7))
      mark(pos, pos + 1, 'header')  # ext type
      pos += 1
      end = pos + n
      array_record(end)
      pos = end
    else:
      raise AssertionError(f'unexpected byte 0x{b:02x} at {pos - 1}')

  def array_record(end):
    nonlocal pos
    mark(pos, end, 'header')
    # [shape, dtype, bin]: skip to the bin header, whose payload is the data
    pos += 1  # 0x93
    b = data[pos]
    ndim = b & 0x0F
    pos += 1
    for _ in range(ndim):
      d = data[pos]
      pos += 1 + ({0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}.get(d, 0))
    pos += 1 + (data[pos] & 0x1F)  # fixstr dtype name
    b = data[pos]
    size = 1 << (b - 0xC4)
    pos += 1
    n = int.from_bytes(data[pos:pos + size], 'big')
    pos += size
    mark(pos, pos + n, 'data')
    assert pos + n == end

  item()
  assert pos == len(data) and all(out)
  return out


@pytest.fixture
def two_checkpoints(tmp_path):
  with config.temp_flip_flag('use_orbax_checkpointing', False):
    checkpoints.save_checkpoint(tmp_path, tree(1), 1, keep=5)
    newest = pathlib.Path(checkpoints.save_checkpoint(tmp_path, tree(2), 2, keep=5))
    yield tmp_path, newest


def same(a, b) -> bool:
  if isinstance(a, dict):
    return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
  return np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype


def test_every_flipped_byte_is_detected(two_checkpoints):
  ckpt_dir, newest = two_checkpoints
  good = newest.read_bytes()
  kinds = labels(good)
  counts = {k: kinds.count(k) for k in sorted(set(kinds))}
  assert set(counts) == {'data', 'header', 'key', 'value'}, counts
  detected = {k: 0 for k in counts}
  for i, kind in enumerate(kinds):
    for pattern in (0x01, 0x80):
      bad = bytearray(good)
      bad[i] ^= pattern
      newest.write_bytes(bytes(bad))
      out = checkpoints.restore_checkpoint(ckpt_dir, tree(0))
      assert same(out, tree(1)), f'byte {i} ({kind}) ^ {pattern:#x}: not the previous checkpoint'
      with pytest.raises(checkpoints.CheckpointCorruptedError) as e:
        checkpoints.restore_checkpoint(newest, tree(0))
      assert e.value.fallback == str(ckpt_dir / 'checkpoint_1')
      detected[kind] += 1
  newest.write_bytes(good)
  assert same(checkpoints.restore_checkpoint(ckpt_dir, tree(0)), tree(2))
  print(f'\nbyte-flip matrix: {sum(detected.values())} flips of {len(good)} bytes detected '
        f'({detected})')
  assert detected == {k: 2 * n for k, n in counts.items()}


def test_a_damaged_integrity_record_is_damage_too(two_checkpoints):
  ckpt_dir, newest = two_checkpoints
  record = newest.with_name('.checkpoint_2.flaxen-integrity')
  good = record.read_bytes()
  for i in range(len(good)):
    bad = bytearray(good)
    bad[i] ^= 0x04
    record.write_bytes(bytes(bad))
    out = checkpoints.restore_checkpoint(ckpt_dir, tree(0))
    assert same(out, tree(1)) or same(out, tree(2)), i  # never anything else
    if not same(out, tree(2)):  # a flip the record's format cannot absorb: reported
      with pytest.raises(checkpoints.CheckpointCorruptedError):
        checkpoints.restore_checkpoint(newest, tree(0))


def test_flips_in_orbax_files_are_detected(tmp_path):
  target = {'w': np.arange(64, dtype=np.float32), 'b': np.ones(3, np.int32)}
  checkpoints.save_checkpoint(tmp_path, {'w': target['w'] * 0, 'b': target['b'] * 0}, 1, keep=5)
  newest = pathlib.Path(checkpoints.save_checkpoint(tmp_path, target, 2, keep=5))
  files = sorted(p for p in newest.rglob('*') if p.is_file() and p.stat().st_size)
  flipped = 0
  for f in files:
    good = f.read_bytes()
    for i in sorted({0, len(good) // 2, len(good) - 1}):
      bad = bytearray(good)
      bad[i] ^= 0x01
      f.write_bytes(bytes(bad))
      out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(64, np.float32),
                                                      'b': np.zeros(3, np.int32)})
      assert (np.asarray(out['w']) == 0).all() and (np.asarray(out['b']) == 0).all(), (f, i)
      flipped += 1
    f.write_bytes(good)
  out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(64, np.float32),
                                                  'b': np.zeros(3, np.int32)})
  assert (np.asarray(out['w']) == target['w']).all()
  print(f'\nOrbax checkpoint: {flipped} flips in {len(files)} files detected')
  assert flipped >= 2 * len(files)


def test_labels_cover_the_format():
  data = struct.pack('>B', 0x81) + b'\xa1k' + b'\x01'
  assert labels(data) == ['header', 'header', 'key', 'value']
