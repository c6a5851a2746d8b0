"""``flaxen.training.callbacks``: hooks into ``fit`` (progress, early stopping, metrics, plots).

This file only re-exports; see ``flaxen._src.training.loop``.
"""

from flaxen._src.training.loop.callbacks import Callback as Callback
from flaxen._src.training.loop.callbacks import EarlyStoppingCallback as EarlyStoppingCallback
from flaxen._src.training.loop.callbacks import FitContext as FitContext
from flaxen._src.training.loop.metric_writers import WriteMetrics as WriteMetrics
from flaxen._src.training.loop.plot import PlotHistory as PlotHistory
from flaxen._src.training.loop.plot import save_history_plot as save_history_plot
from flaxen._src.training.loop.progress import ProgressBar as ProgressBar
