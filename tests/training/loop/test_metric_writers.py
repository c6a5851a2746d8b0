"""Metric writers: CSV and TensorBoard files written, truncated on resume, read back."""

import glob
import os
import struct

import numpy as np
import pytest

from flaxen._src.training.loop import metric_writers as mw_lib
from flaxen.training.callbacks import FitContext, WriteMetrics
from flaxen.training.metric_writers import (
  CsvWriter,
  MetricWriter,
  MultiWriter,
  TensorBoardWriter,
  create_default_writer,
  read_csv,
)


def read_events(logdir):
  """Every event of the TFRecord files in ``logdir`` (length, crc, payload, crc)."""
  from tensorboardX.proto import event_pb2

  events = []
  for path in sorted(glob.glob(os.path.join(logdir, 'events.out.tfevents.*'))):
    with open(path, 'rb') as f:
      data = f.read()
    pos = 0
    while pos < len(data):
      (length,) = struct.unpack('<Q', data[pos:pos + 8])
      payload = data[pos + 12:pos + 12 + length]
      assert len(payload) == length, f'{path}: record cut short'
      pos += 12 + length + 4
      event = event_pb2.Event()
      event.ParseFromString(payload)
      events.append(event)
  return events


def scalars(events):
  return [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value
          if v.HasField('simple_value')]


def test_csv_round_trip_exact_floats_and_growing_header(tmp_path):
  path = tmp_path / 'sub' / 'm.csv'
  writer = CsvWriter(path)
  writer.write_scalars(1, {'loss': 1 / 3})
  writer.write_scalars(2, {'loss': 0.1, 'accuracy': np.float32(0.75), 'epoch': 1})
  writer.close()
  assert path.read_text().splitlines()[0] == 'step,loss,accuracy,epoch'
  rows = read_csv(path)
  assert rows == [{'step': 1, 'loss': 1 / 3}, {'step': 2, 'loss': 0.1, 'accuracy': 0.75,
                                                'epoch': 1}]
  again = CsvWriter(path)  # continues the file with its header
  again.write_scalars(3, {'loss': 0.5})
  assert [r['step'] for r in read_csv(path)] == [1, 2, 3]


def test_csv_truncate_drops_later_steps(tmp_path):
  writer = CsvWriter(tmp_path / 'm.csv')
  for step in (4, 8, 12):
    writer.write_scalars(step, {'loss': step / 10})
  writer.truncate(8)
  assert [r['step'] for r in read_csv(tmp_path / 'm.csv')] == [4, 8]
  CsvWriter(tmp_path / 'none.csv').truncate(3)  # nothing written yet: nothing to do
  assert not (tmp_path / 'none.csv').exists()


def test_tensorboard_events_read_back(tmp_path):
  pytest.importorskip('tensorboardX')
  writer = TensorBoardWriter(tmp_path)
  writer.write_hparams({'lr': 0.1})
  writer.write_scalars(4, {'train_loss': 0.5, 'eval_accuracy': 0.75})
  writer.write_scalars(8, {'train_loss': 0.25})
  writer.close()
  events = read_events(tmp_path)
  assert scalars(events) == [(4, 'train_loss', 0.5), (4, 'eval_accuracy', 0.75),
                             (8, 'train_loss', 0.25)]
  texts = [v.tag for e in events for v in e.summary.value if v.tag.startswith('hparams')]
  assert texts


def test_tensorboard_truncate_writes_a_purge_marker(tmp_path):
  pytest.importorskip('tensorboardX')
  from tensorboardX.proto import event_pb2

  writer = TensorBoardWriter(tmp_path)
  writer.truncate(8)  # a run resumed at step 8
  writer.write_scalars(12, {'train_loss': 0.1})
  writer.close()
  events = read_events(tmp_path)
  starts = [e.step for e in events if e.session_log.status == event_pb2.SessionLog.START]
  assert starts == [9] and scalars(events) == [(12, 'train_loss', pytest.approx(0.1))]


def test_tensorboard_missing_is_a_clear_import_error(monkeypatch, tmp_path):
  monkeypatch.setattr(mw_lib, 'tensorboard_available', lambda: False)
  with pytest.raises(ImportError, match=r"pip install 'flaxen\[tensorboard\]'"):
    TensorBoardWriter(tmp_path)
  writer = create_default_writer(tmp_path)
  assert [type(w) for w in writer.writers] == [CsvWriter]


def test_default_writer_and_multi_writer(tmp_path):
  writer = create_default_writer(tmp_path, tensorboard=False)
  assert [type(w) for w in writer.writers] == [CsvWriter]
  if mw_lib.tensorboard_available():
    kinds = [type(w) for w in create_default_writer(tmp_path).writers]
    assert kinds == [CsvWriter, TensorBoardWriter]
  calls = []

  class Rec(MetricWriter):
    def write_scalars(self, step, values):
      calls.append((step, dict(values)))

    def truncate(self, step):
      calls.append(('truncate', step))

  both = MultiWriter([Rec(), Rec()])
  both.truncate(2)
  both.write_scalars(3, {'a': 1.0})
  both.flush()
  both.close()
  assert calls == [('truncate', 2)] * 2 + [(3, {'a': 1.0})] * 2


def test_write_metrics_callback_epochs_and_intervals(tmp_path):
  writer = CsvWriter(tmp_path / 'm.csv')
  writer.write_scalars(9, {'train_loss': 7.0})  # left by an abandoned run
  cb = WriteMetrics(writer, log_every=2)
  ctx = FitContext(epochs=1)
  ctx.start_step = 0
  cb.on_train_begin(ctx)
  for step, loss in enumerate([1.0, 3.0, 5.0], start=1):
    ctx.step = step
    cb.on_step_end(ctx, {'loss': np.float32(loss), 'grad_norm': np.float32(0.5)})
  cb.on_epoch_end(ctx, {'epoch': 1, 'step': 3, 'train_loss': 2.5, 'seconds': 0.1})
  cb.on_train_end(ctx)
  assert read_csv(tmp_path / 'm.csv') == [
    {'step': 2, 'batch_loss': 2.0, 'grad_norm': 0.5},
    {'step': 3, 'epoch': 1, 'train_loss': 2.5, 'seconds': 0.1},
  ]
  with pytest.raises(ValueError, match='log_every must be >= 1'):
    WriteMetrics(writer, log_every=0)
