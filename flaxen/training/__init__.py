"""``flaxen.training``: train state, checkpoints, schedules, and the ``fit`` training loop.

This package only re-exports; see ``flaxen._src.training``.
"""

from flaxen._src.training.loop.fit import fit as fit
from flaxen._src.training.loop.steps import evaluate as evaluate
from flaxen.training import callbacks as callbacks
from flaxen.training import checkpoints as checkpoints
from flaxen.training import common_utils as common_utils
from flaxen.training import dynamic_scale as dynamic_scale
from flaxen.training import early_stopping as early_stopping
from flaxen.training import loop as loop
from flaxen.training import lr_schedule as lr_schedule
from flaxen.training import metric_writers as metric_writers
from flaxen.training import orbax_utils as orbax_utils
from flaxen.training import prefetch_iterator as prefetch_iterator
from flaxen.training import train_state as train_state
