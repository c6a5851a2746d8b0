"""Integrity records: written with every msgpack checkpoint, checked on every read."""

import json
import os
import pathlib

import numpy as np
import pytest

from flaxen import serialization
from flaxen._src.training.checkpoints import records, save
from flaxen.training import checkpoints


def record_of(path):
  return json.loads(pathlib.Path(path).with_name(f'.{pathlib.Path(path).name}.flaxen-integrity')
                    .read_text())


def test_record_holds_size_and_sha256_of_the_exact_bytes(tmp_path, msgpack):
  import hashlib

  path = checkpoints.save_checkpoint(tmp_path, {'w': np.arange(10)}, 3)
  data = pathlib.Path(path).read_bytes()
  assert data == serialization.to_bytes({'w': np.arange(10)})  # the reference's bytes
  doc = record_of(path)
  assert doc == {'format': 'flaxen-checkpoint-integrity', 'version': 1, 'file': 'checkpoint_3',
                 'accept': [{'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}]}
  assert records.verify(path, data) is True
  with pytest.raises(records.Damaged, match='SHA-256 differs'):
    records.verify(path, data[:-1] + bytes([data[-1] ^ 1]))
  with pytest.raises(records.Damaged, match='holds'):
    records.verify(path, data + b'x')


def test_no_record_means_unverified_and_a_broken_record_means_damage(tmp_path):
  path = str(tmp_path / 'checkpoint_1')
  pathlib.Path(path).write_bytes(b'\x80')
  assert records.load(path) is None and records.verify(path, b'\x80') is False
  rec = tmp_path / '.checkpoint_1.flaxen-integrity'
  for bad in (b'{not json', b'{}', json.dumps({'format': 'flaxen-checkpoint-integrity',
                                                'version': 1, 'file': 'checkpoint_2',
                                                'accept': [{'size': 1, 'sha256': 'a' * 64}]})
              .encode()):
    rec.write_bytes(bad)
    with pytest.raises(records.Damaged, match='record'):
      records.verify(path, b'\x80')


def test_overwrite_accepts_old_and_new_bytes_only_while_it_runs(tmp_path, monkeypatch, msgpack):
  old_path = checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1)
  old = pathlib.Path(old_path).read_bytes()
  seen = []
  real = save.atomic.write_file

  def spy(path, data, overwrite, token):
    if path == old_path:  # the data rename: at this instant the record accepts both
      seen.append([d['sha256'] for d in record_of(old_path)['accept']])
      assert records.verify(old_path, old)  # a crash right now leaves a verifiable file
    return real(path, data, overwrite, token)

  monkeypatch.setattr(save.atomic, 'write_file', spy)
  checkpoints.save_checkpoint(tmp_path, {'v': 2}, 1, overwrite=True)
  new = pathlib.Path(old_path).read_bytes()
  assert len(seen) == 1 and len(seen[0]) == 2
  assert len(record_of(old_path)['accept']) == 1  # afterwards: only the new bytes
  assert records.verify(old_path, new)
  with pytest.raises(records.Damaged):
    records.verify(old_path, old)


def test_replacing_a_reference_written_file_hashes_it_first(tmp_path, msgpack, monkeypatch):
  data = serialization.to_bytes({'v': 1})
  path = tmp_path / 'checkpoint_1'
  path.write_bytes(data)  # no record: written by the reference
  seen = []
  real = save.atomic.write_file

  def spy(p, d, overwrite, token):
    if p == str(path):
      seen.append(records.verify(str(path), data))
    return real(p, d, overwrite, token)

  monkeypatch.setattr(save.atomic, 'write_file', spy)
  checkpoints.save_checkpoint(tmp_path, {'v': 2}, 1, overwrite=True)
  assert seen == [True]


def test_failed_data_write_restores_the_previous_record(tmp_path, msgpack, monkeypatch):
  path = checkpoints.save_checkpoint(tmp_path, {'v': 1}, 1)
  before = pathlib.Path(path).with_name('.checkpoint_1.flaxen-integrity').read_bytes()
  real = save.atomic.write_file

  def fail_data(p, d, overwrite, token):
    if p == path:
      raise OSError('disk gone')
    return real(p, d, overwrite, token)

  monkeypatch.setattr(save.atomic, 'write_file', fail_data)
  with pytest.raises(OSError, match='disk gone'):
    checkpoints.save_checkpoint(tmp_path, {'v': 2}, 1, overwrite=True)
  monkeypatch.undo()
  assert pathlib.Path(path).with_name('.checkpoint_1.flaxen-integrity').read_bytes() == before
  assert checkpoints.restore_checkpoint(path, None) == {'v': 1}
  with pytest.raises(OSError):  # a brand-new name: the record written first is removed again
    monkeypatch.setattr(save.atomic, 'write_file', lambda p, d, o, t: (
      real(p, d, o, t) if p.endswith('integrity') else (_ for _ in ()).throw(OSError('x'))))
    checkpoints.save_checkpoint(tmp_path, {'v': 3}, 2)
  assert sorted(os.listdir(tmp_path)) == ['.checkpoint_1.flaxen-integrity', 'checkpoint_1']


def test_pruning_removes_records_too(tmp_path, msgpack):
  for step in range(4):
    checkpoints.save_checkpoint(tmp_path, {'v': step}, step, keep=2)
  assert sorted(os.listdir(tmp_path)) == [
    '.checkpoint_2.flaxen-integrity', '.checkpoint_3.flaxen-integrity',
    'checkpoint_2', 'checkpoint_3']
