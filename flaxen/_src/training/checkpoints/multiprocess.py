"""``save_checkpoint_multiprocess``: one checkpoint written collectively by all processes.

Every process calls it with the same arguments; the processes meet at a
barrier before and after the save.

* Orbax (the default, ``flax_use_orbax_checkpointing``): every process takes
  part in the Orbax save, each writing the shards it holds, so arrays sharded
  over devices of several processes are saved as they are; process 0 prunes
  old checkpoints once the new one is committed.
* msgpack (flag off): process 0 writes the file and prunes, exactly as
  ``save_checkpoint``; the others only meet at the barriers, so no two processes
  race on the shared directory. Arrays that span processes cannot go into one
  file: they raise ``MPACheckpointingRequiredError``, whose message says to keep
  Orbax on (flaxen has no ``GlobalAsyncCheckpointManager`` path), before
  anything is written.
"""

from __future__ import annotations

import os
from typing import Any

import jax

from flaxen._src import errors
from flaxen._src.public import set_module
from flaxen._src.training.checkpoints import naming
from flaxen._src.training.checkpoints.async_manager import AsyncManager
from flaxen._src.training.checkpoints.save import save_prepared, use_orbax


def has_multiprocess_array(target: Any) -> bool:
  """Whether ``target`` holds a ``jax.Array`` that no single process can read whole."""
  return any(
    isinstance(x, jax.Array) and not x.is_fully_addressable
    for x in jax.tree_util.tree_leaves(target)
  )


def _barrier(name: str) -> None:
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(name)


@set_module('flaxen.training.checkpoints')
def save_checkpoint_multiprocess(
  ckpt_dir: str | os.PathLike,
  target: Any,
  step: int | float,
  prefix: str = 'checkpoint_',
  keep: int = 1,
  overwrite: bool = False,
  keep_every_n_steps: int | None = None,
  async_manager: AsyncManager | None = None,
  gda_manager: Any = None,
  orbax_checkpointer: Any = None,
) -> str:
  """Saves a checkpoint from every process of a multi-process job (see ``save_checkpoint``).

  Args:
    ckpt_dir, target, step, prefix, keep, overwrite, keep_every_n_steps,
      async_manager, orbax_checkpointer: as for ``save_checkpoint``.
    gda_manager: accepted for signature compatibility; arrays that span
      processes are saved through Orbax.

  Returns:
    The path of the checkpoint (on every process).

  Raises:
    MPACheckpointingRequiredError: ``target`` holds arrays that span processes
      and the Orbax backend is off.
  """
  del gda_manager
  base, pfx = naming.split_prefix(naming.safe_normpath(os.fspath(ckpt_dir)), prefix)
  path = naming.checkpoint_path(base, naming.step_text(step), pfx)
  orbax = use_orbax(orbax_checkpointer)
  if not orbax and has_multiprocess_array(target):
    raise errors.MPACheckpointingRequiredError(path, step)
  _barrier('flaxen.save_checkpoint_multiprocess:start')
  save_prepared(ckpt_dir, target, step, prefix, keep, overwrite, keep_every_n_steps,
                async_manager, orbax_checkpointer, multiprocess=True)
  _barrier(f'flaxen.save_checkpoint_multiprocess:{path}')
  return path
