"""``flaxen.training``: train state, checkpoints, schedules and loop helpers.

This package only re-exports; see ``flaxen._src.training``.
"""

from flaxen.training import checkpoints as checkpoints
from flaxen.training import common_utils as common_utils
from flaxen.training import dynamic_scale as dynamic_scale
from flaxen.training import early_stopping as early_stopping
from flaxen.training import lr_schedule as lr_schedule
from flaxen.training import orbax_utils as orbax_utils
from flaxen.training import prefetch_iterator as prefetch_iterator
from flaxen.training import train_state as train_state
