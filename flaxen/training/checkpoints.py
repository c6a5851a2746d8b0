"""``flaxen.training.checkpoints``: save and restore msgpack checkpoints safely.

This file only re-exports; see ``flaxen._src.training.checkpoints``.
"""

from flaxen._src.training.checkpoints import AsyncManager as AsyncManager
from flaxen._src.training.checkpoints import CheckpointCorruptedError as CheckpointCorruptedError
from flaxen._src.training.checkpoints import CheckpointMismatchError as CheckpointMismatchError
from flaxen._src.training.checkpoints import available_steps as available_steps
from flaxen._src.training.checkpoints import compare_state as compare_state
from flaxen._src.training.checkpoints import convert_pre_linen as convert_pre_linen
from flaxen._src.training.checkpoints import latest_checkpoint as latest_checkpoint
from flaxen._src.training.checkpoints import natural_sort as natural_sort
from flaxen._src.training.checkpoints import restore_checkpoint as restore_checkpoint
from flaxen._src.training.checkpoints import save_checkpoint as save_checkpoint
from flaxen._src.training.checkpoints import (
  save_checkpoint_multiprocess as save_checkpoint_multiprocess,
)
