"""Checkpoints: msgpack files byte-compatible with the reference, written crash-safely.

Files of the package, one concept each:
  * ``naming``: file names, natural sort, listing, ``available_steps``;
  * ``framing``: cheap "is this file one complete msgpack object" check;
  * ``atomic``: temp file + fsync + rename + directory fsync; stale temp clean-up;
  * ``save``: ``save_checkpoint`` (overwrite checks, ``keep`` bookkeeping);
  * ``async_manager``: ``AsyncManager`` (background commits, one at a time);
  * ``multiprocess``: ``save_checkpoint_multiprocess``;
  * ``restore``: ``restore_checkpoint``, ``latest_checkpoint``;
  * ``strict``: the exhaustive target/state comparison of ``strict=True``;
  * ``errors``: ``CheckpointCorruptedError``, ``CheckpointMismatchError``;
  * ``pre_linen``: ``convert_pre_linen``;
  * ``orbax_bridge``: the optional Orbax backend.
"""

from flaxen._src.training.checkpoints.async_manager import AsyncManager
from flaxen._src.errors.checkpoint import (
  CheckpointCorruptedError,
  CheckpointMismatchError,
)
from flaxen._src.training.checkpoints.multiprocess import save_checkpoint_multiprocess
from flaxen._src.training.checkpoints.naming import available_steps, natural_sort
from flaxen._src.training.checkpoints.pre_linen import convert_pre_linen
from flaxen._src.training.checkpoints.restore import latest_checkpoint, restore_checkpoint
from flaxen._src.training.checkpoints.save import save_checkpoint
from flaxen._src.training.checkpoints.strict import compare_state
