"""``flaxen.training.early_stopping``: ``EarlyStopping``.

This file only re-exports; see ``flaxen._src.training.early_stopping``.
"""

from flaxen import struct as struct
from flaxen._src.training.early_stopping import EarlyStopping as EarlyStopping
