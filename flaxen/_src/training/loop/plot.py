"""Curves of a training run as a PNG, drawn only when matplotlib is installed.

matplotlib is an optional extra (``pip install 'flaxen[plot]'``); without it
``save_history_plot`` returns None and the run goes on. The figure has the
train/eval loss per epoch on the left and, when the records carry accuracies,
the train/eval accuracy on the right. It is drawn with matplotlib's object API
and the Agg canvas: no pyplot, no global backend switch, no window, so it is
safe in headless runs and inside programs that use pyplot themselves.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.training.loop.callbacks import Callback, FitContext

# panel -> (y label, scale of the values, the record keys drawn, with their legend)
_PANELS = (
  ('loss', 1.0, (('train_loss', 'train'), ('eval_loss', 'eval'))),
  ('accuracy (%)', 100.0, (('train_accuracy', 'train'), ('eval_accuracy', 'eval'))),
)


def plot_available() -> bool:
  """Whether matplotlib can be imported (a broken installation counts as absent)."""
  try:
    import matplotlib  # noqa: F401
  except ImportError:
    return False
  return True


@set_module('flaxen.training.callbacks')
def save_history_plot(history: Sequence[dict[str, Any]], path: str | os.PathLike,
                      title: str = 'training run') -> str | None:
  """Writes the loss (and accuracy) curves of ``history`` to the PNG ``path``.

  Args:
    history: epoch records (``fit``'s ``history``) with ``epoch`` and some of
      ``train_loss``, ``eval_loss``, ``train_accuracy``, ``eval_accuracy``.
    path: the PNG file to write (its directory must exist).
    title: the figure's title.

  Returns:
    The path written, or None when matplotlib is missing or ``history`` is empty.
  """
  if not history or not plot_available():
    return None
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure
  from matplotlib.ticker import MaxNLocator

  panels = [(label, scale, [(k, name) for k, name in keys if k in history[-1]])
            for label, scale, keys in _PANELS]
  panels = [p for p in panels if p[2]] or [panels[0]]
  fig = Figure(figsize=(4 * len(panels), 3.2), dpi=100)
  FigureCanvasAgg(fig)
  axes = fig.subplots(1, len(panels), squeeze=False)[0]
  for ax, (label, scale, keys) in zip(axes, panels):
    for key, name in keys:
      points = [(r['epoch'], scale * r[key]) for r in history if key in r]
      ax.plot([p[0] for p in points], [p[1] for p in points], marker='o', label=name)
    ax.set_xlabel('epoch')
    ax.set_ylabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if keys:
      ax.legend()
  fig.suptitle(title)
  fig.tight_layout()
  path = os.fspath(path)
  fig.savefig(path, format='png')
  return path


@set_module('flaxen.training.callbacks')
class PlotHistory(Callback):
  """Draws the run's curves (``save_history_plot``) when training ends.

  Args:
    path: the PNG file; default ``<workdir>/loss.png`` (nothing without a workdir).
    title: the figure's title.

  Attributes:
    written: the path of the last plot written, or None.
  """

  def __init__(self, path: str | os.PathLike | None = None, title: str = 'training run'):
    self.path = path
    self.title = title
    self.written: str | None = None

  def on_train_end(self, ctx: FitContext) -> None:
    path = self.path
    if path is None and ctx.workdir is not None:
      path = os.path.join(ctx.workdir, 'loss.png')
    if path is not None and ctx.history:
      self.written = save_history_plot(ctx.history, path, self.title)
