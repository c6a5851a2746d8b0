"""The loss-curve PNG: written with matplotlib, skipped cleanly without it."""

import pytest

from flaxen._src.cli import plot

HISTORY = [
  {'epoch': 1, 'train_loss': 1.5, 'test_loss': 0.9, 'test_accuracy': 0.8},
  {'epoch': 2, 'train_loss': 0.5, 'test_loss': 0.4, 'test_accuracy': 0.9},
]


def test_png_written_when_matplotlib_is_installed(tmp_path):
  pytest.importorskip('matplotlib')
  path = plot.save_loss_curve(HISTORY, tmp_path / 'loss.png', title='toy')
  assert path == str(tmp_path / 'loss.png')
  assert (tmp_path / 'loss.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_objects_with_attributes_work_too(tmp_path):
  pytest.importorskip('matplotlib')

  class Record:
    def __init__(self, **kw):
      self.__dict__.update(kw)

  assert plot.save_loss_curve([Record(**h) for h in HISTORY], tmp_path / 'a.png')


def test_skipped_without_matplotlib(tmp_path, monkeypatch):
  monkeypatch.setattr(plot, 'available', lambda: False)
  assert plot.save_loss_curve(HISTORY, tmp_path / 'loss.png') is None
  assert not (tmp_path / 'loss.png').exists()


def test_empty_history_writes_nothing(tmp_path):
  assert plot.save_loss_curve([], tmp_path / 'loss.png') is None
  assert not (tmp_path / 'loss.png').exists()
