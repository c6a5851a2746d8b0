"""``flaxen.training.train_state``: ``TrainState`` and the ``OVERWRITE_WITH_GRADIENT`` name.

This file only re-exports; see ``flaxen._src.training.train_state``.
"""

from flaxen import core as core
from flaxen import struct as struct
from flaxen._src.training.train_state import OVERWRITE_WITH_GRADIENT as OVERWRITE_WITH_GRADIENT
from flaxen._src.training.train_state import TrainState as TrainState
