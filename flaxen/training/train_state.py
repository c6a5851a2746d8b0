"""``flaxen.training.train_state``: ``TrainState``.

This file only re-exports; see ``flaxen._src.training.train_state``.
"""

from flaxen._src.training.train_state import OVERWRITE_WITH_GRADIENT as OVERWRITE_WITH_GRADIENT
from flaxen._src.training.train_state import TrainState as TrainState
