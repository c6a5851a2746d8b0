"""``flaxen.training.checkpoints``: save and restore checkpoints (Orbax or msgpack), safely.

This file only re-exports; see ``flaxen._src.training.checkpoints``. Importing it
imports ``orbax.checkpoint`` (as ``ocp``), as the reference's module does.
"""

from jax import process_index as process_index
from jax.experimental.array_serialization.serialization import (
  GlobalAsyncCheckpointManager as GlobalAsyncCheckpointManager,
)
from jax.experimental.array_serialization.serialization import (
  get_tensorstore_spec as get_tensorstore_spec,
)
from jax.experimental.multihost_utils import sync_global_devices as sync_global_devices

from flaxen import errors as errors
from flaxen import io as io
from flaxen import serialization as serialization
from flaxen import traverse_util as traverse_util
from flaxen._src.config import config as config
from flaxen._src.training.checkpoints import COMMIT_SUCCESS_FILE as COMMIT_SUCCESS_FILE
from flaxen._src.training.checkpoints import MODULE_NUM_RE as MODULE_NUM_RE
from flaxen._src.training.checkpoints import MP_ARRAY_PH as MP_ARRAY_PH
from flaxen._src.training.checkpoints import MP_ARRAY_POSTFIX as MP_ARRAY_POSTFIX
from flaxen._src.training.checkpoints import ORBAX_CKPT_FILENAME as ORBAX_CKPT_FILENAME
from flaxen._src.training.checkpoints import ORBAX_MANIFEST_OCDBT as ORBAX_MANIFEST_OCDBT
from flaxen._src.training.checkpoints import ORBAX_METADATA_FILENAME as ORBAX_METADATA_FILENAME
from flaxen._src.training.checkpoints import SCHEME_RE as SCHEME_RE
from flaxen._src.training.checkpoints import SIGNED_FLOAT_RE as SIGNED_FLOAT_RE
from flaxen._src.training.checkpoints import UNSIGNED_FLOAT_RE as UNSIGNED_FLOAT_RE
from flaxen._src.training.checkpoints import AsyncManager as AsyncManager
from flaxen._src.training.checkpoints import CheckpointCorruptedError as CheckpointCorruptedError
from flaxen._src.training.checkpoints import CheckpointMismatchError as CheckpointMismatchError
from flaxen._src.training.checkpoints import available_steps as available_steps
from flaxen._src.training.checkpoints import compare_state as compare_state
from flaxen._src.training.checkpoints import convert_pre_linen as convert_pre_linen
from flaxen._src.training.checkpoints import latest_checkpoint as latest_checkpoint
from flaxen._src.training.checkpoints import natural_sort as natural_sort
from flaxen._src.training.checkpoints import restore_checkpoint as restore_checkpoint
from flaxen._src.training.checkpoints import safe_normpath as safe_normpath
from flaxen._src.training.checkpoints import save_checkpoint as save_checkpoint
from flaxen._src.training.checkpoints import (
  save_checkpoint_multiprocess as save_checkpoint_multiprocess,
)
from flaxen._src.training.orbax_utils import ocp as ocp
from flaxen._src.typing import PyTree as MultiprocessArrayType
from flaxen._src.typing import PyTree as PyTree
from flaxen.training import orbax_utils as orbax_utils
