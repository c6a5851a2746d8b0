"""The msgpack completeness check used by ``latest_checkpoint`` and restore."""

import os

import numpy as np
import pytest

from flaxen import serialization
from flaxen._src.training.checkpoints import framing


def write(tmp_path, data: bytes, name='f'):
  p = tmp_path / name
  p.write_bytes(data)
  return str(p)


def sample_bytes():
  return serialization.to_bytes({
    'params': {'w': np.arange(300, dtype=np.float32).reshape(20, 15), 'b': np.zeros(3)},
    'step': 7, 'neg': -40000, 'big': 2**40, 'f': 1.5, 'name': 'x' * 40, 'none': None,
    'list': [True, False, np.float16(2.0), 3 + 4j], 'empty': {},
  })


def test_complete_file_passes(tmp_path):
  framing.check_complete(write(tmp_path, sample_bytes()))


def test_every_truncation_is_detected(tmp_path):
  data = sample_bytes()
  p = tmp_path / 'f'
  cuts = set(range(0, len(data), 7)) | set(range(len(data) - 40, len(data))) | set(range(40))
  for cut in sorted(cuts):
    p.write_bytes(data[:cut])
    with pytest.raises(framing.IncompleteFile):
      framing.check_complete(str(p))


@pytest.mark.parametrize('tail', [b'\x00', b'\xc0', b'garbage'])
def test_trailing_bytes_are_detected(tmp_path, tail):
  with pytest.raises(framing.IncompleteFile, match='unexpected bytes'):
    framing.check_complete(write(tmp_path, sample_bytes() + tail))


def test_invalid_header_byte_and_huge_counts(tmp_path):
  with pytest.raises(framing.IncompleteFile, match='0xc1'):
    framing.check_complete(write(tmp_path, b'\xc1'))
  with pytest.raises(framing.IncompleteFile):  # map32 announcing 2**32-1 entries
    framing.check_complete(write(tmp_path, b'\xdf\xff\xff\xff\xff\x00'))
  with pytest.raises(framing.IncompleteFile, match='empty'):
    framing.check_complete(write(tmp_path, b''))


def test_all_golden_serialization_files_pass(golden_dir, tmp_path):
  files = sorted((golden_dir / 'serialization').glob('*.msgpack'))
  assert files
  for path in files:
    framing.check_complete(str(path))
    data = path.read_bytes()
    with pytest.raises(framing.IncompleteFile):
      framing.check_complete(write(tmp_path, data[: len(data) // 2]))


def test_array_payload_is_skipped_not_read(tmp_path, monkeypatch):
  # 16 MiB of array data: the walk reads a few header bytes only.
  data = serialization.to_bytes({'w': np.zeros(4 * 2**20, np.float32)})
  path = write(tmp_path, data)
  reads = []
  real_open = open

  class Counting:
    def __init__(self, f):
      self.f = f

    def read(self, n=-1):
      out = self.f.read(n)
      reads.append(len(out))
      return out

    def __getattr__(self, name):
      return getattr(self.f, name)

    def __enter__(self):
      return self

    def __exit__(self, *a):
      self.f.close()

  monkeypatch.setattr(framing, 'open', lambda *a, **k: Counting(real_open(*a, **k)), raising=False)
  framing.check_complete(path)
  assert sum(reads) < 200 and os.path.getsize(path) > 16 * 2**20
