"""Loss and accuracy curves: a PNG with matplotlib, nothing (and no error) without it."""

import struct
import sys

import pytest

from flaxen._src.training.loop import plot as plot_lib
from flaxen.training.callbacks import FitContext, PlotHistory, save_history_plot

HISTORY = [
  {'epoch': e, 'train_loss': 1.0 / e, 'eval_loss': 1.2 / e, 'train_accuracy': 0.5 + e / 10,
   'eval_accuracy': 0.45 + e / 10}
  for e in (1, 2, 3)
]


def png_size(path):
  data = path.read_bytes()
  assert data[:8] == b'\x89PNG\r\n\x1a\n'
  return struct.unpack('>II', data[16:24])


def test_loss_and_accuracy_panels(tmp_path):
  pytest.importorskip('matplotlib')
  both = save_history_plot(HISTORY, tmp_path / 'both.png', 'run')
  assert both == str(tmp_path / 'both.png')
  loss_only = [{k: v for k, v in r.items() if 'accuracy' not in k} for r in HISTORY]
  save_history_plot(loss_only, tmp_path / 'loss.png')
  # two panels side by side (800 px) when accuracies exist, one (400 px) otherwise
  assert png_size(tmp_path / 'both.png') == (800, 320)
  assert png_size(tmp_path / 'loss.png') == (400, 320)


def test_plot_history_callback_writes_into_the_workdir(tmp_path):
  pytest.importorskip('matplotlib')
  ctx = FitContext(epochs=3, workdir=str(tmp_path))
  ctx.history = HISTORY
  cb = PlotHistory()
  cb.on_train_end(ctx)
  assert cb.written == str(tmp_path / 'loss.png') and png_size(tmp_path / 'loss.png')
  nowhere = PlotHistory()
  nowhere.on_train_end(FitContext(epochs=1))  # no workdir, no path: nothing to do
  assert nowhere.written is None


def test_skipped_without_matplotlib(tmp_path, monkeypatch):
  monkeypatch.setitem(sys.modules, 'matplotlib', None)
  assert not plot_lib.plot_available()
  assert save_history_plot(HISTORY, tmp_path / 'x.png') is None
  assert not (tmp_path / 'x.png').exists()


def test_empty_history_writes_nothing(tmp_path):
  assert save_history_plot([], tmp_path / 'x.png') is None
  assert not (tmp_path / 'x.png').exists()
