"""Checkpoints: the reference's formats (Orbax directories, legacy msgpack files), written safely.

Files of the package, one concept each:
  * ``naming``: steps, names, natural sort, listing, ``safe_normpath``;
  * ``records``: the integrity record beside each msgpack checkpoint;
  * ``atomic``: writer locks, atomic writes and removals, clean-up of dead writers;
  * ``orbax_bridge``: Orbax saves and restores, commit rules;
  * ``intact``: is a checkpoint intact (shared by ``latest`` and ``restore``);
  * ``pending``: background saves that readers wait for;
  * ``async_manager``: ``AsyncManager`` (background commits, failures never lost);
  * ``save``: ``save_checkpoint`` (overwrite checks, ``keep`` bookkeeping);
  * ``multiprocess``: ``save_checkpoint_multiprocess``;
  * ``restore``: ``restore_checkpoint``, ``latest_checkpoint``;
  * ``strict``: the exhaustive target/state comparison of ``strict=True``;
  * ``pre_linen``: ``convert_pre_linen``.
The errors live in ``flaxen._src.errors.checkpoint``.
"""

from flaxen._src.errors.checkpoint import (
  CheckpointCorruptedError,
  CheckpointMismatchError,
)
from flaxen._src.training.checkpoints.async_manager import AsyncManager
from flaxen._src.training.checkpoints.multiprocess import save_checkpoint_multiprocess
from flaxen._src.training.checkpoints.naming import (
  MODULE_NUM_RE,
  SCHEME_RE,
  SIGNED_FLOAT_RE,
  UNSIGNED_FLOAT_RE,
  available_steps,
  natural_sort,
  safe_normpath,
)
from flaxen._src.training.checkpoints.orbax_bridge import (
  COMMIT_SUCCESS_FILE,
  ORBAX_CKPT_FILENAME,
  ORBAX_MANIFEST_OCDBT,
  ORBAX_METADATA_FILENAME,
)
from flaxen._src.training.checkpoints.pre_linen import convert_pre_linen
from flaxen._src.training.checkpoints.restore import latest_checkpoint, restore_checkpoint
from flaxen._src.training.checkpoints.save import save_checkpoint
from flaxen._src.training.checkpoints.strict import compare_state

# the reference's names for its multi-process array placeholders (kept for imports)
MP_ARRAY_POSTFIX = '_gda'
MP_ARRAY_PH = '//GDAPlaceholder:'
