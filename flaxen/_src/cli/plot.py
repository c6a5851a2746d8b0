"""Loss-curve PNG of a training run, drawn only when matplotlib is installed.

matplotlib is an optional extra (``pip install 'flaxen[plot]'``). Without it
``save_loss_curve`` returns None and the run goes on. The figure is drawn with
matplotlib's object API and the Agg canvas: no pyplot, no global backend switch,
no window, safe in headless runs and inside programs that use pyplot themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any


def available() -> bool:
  """Whether matplotlib can be imported (a broken installation counts as absent)."""
  try:
    import matplotlib  # noqa: F401
  except ImportError:
    return False
  return True


def _column(history: Sequence[Any], key: str) -> list[float]:
  return [float(h[key] if isinstance(h, Mapping) else getattr(h, key)) for h in history]


def save_loss_curve(history: Sequence[Any], path: str | os.PathLike,
                    title: str = 'training run') -> str | None:
  """Writes train/test loss (left) and test accuracy (right) per epoch to ``path``.

  Args:
    history: per-epoch records (mappings or objects) with ``epoch``,
      ``train_loss``, ``test_loss`` and ``test_accuracy`` (a fraction).
    path: the PNG file to write (its directory must exist).
    title: figure title.

  Returns:
    The path written, or None when matplotlib is missing or ``history`` is empty.
  """
  if not history or not available():
    return None
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure
  from matplotlib.ticker import MaxNLocator

  epochs = _column(history, 'epoch')
  fig = Figure(figsize=(8, 3.2), dpi=100)
  FigureCanvasAgg(fig)
  ax_loss, ax_acc = fig.subplots(1, 2)
  ax_loss.plot(epochs, _column(history, 'train_loss'), marker='o', label='train')
  ax_loss.plot(epochs, _column(history, 'test_loss'), marker='o', label='test')
  ax_loss.set_xlabel('epoch')
  ax_loss.set_ylabel('cross-entropy loss')
  ax_loss.legend()
  ax_loss.grid(alpha=0.3)
  ax_acc.plot(epochs, [100 * a for a in _column(history, 'test_accuracy')], marker='o',
              color='tab:green')
  ax_acc.set_xlabel('epoch')
  ax_acc.set_ylabel('test accuracy (%)')
  ax_acc.grid(alpha=0.3)
  for ax in (ax_loss, ax_acc):
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
  fig.suptitle(title)
  fig.tight_layout()
  path = os.fspath(path)
  fig.savefig(path, format='png')
  return path
