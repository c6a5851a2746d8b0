"""``save_checkpoint_multiprocess``: one checkpoint written collectively by all processes.

Every process calls it with the same arguments. Process 0 writes the msgpack file
and prunes old checkpoints (exactly as ``save_checkpoint``); the others only
take part in the barrier, so no two processes race on the shared directory.
Arrays that are not fully addressable from one process (global ``jax.Array``
sharded over several hosts) cannot go into a msgpack file: they need the Orbax
backend (``orbax_checkpointer=`` or ``flax_use_orbax_checkpointing``), in which
case every process takes part in the Orbax save. Without it they raise
``MPACheckpointingRequiredError`` before anything is written.
"""

from __future__ import annotations

import os
from typing import Any

import jax

from flaxen._src import errors
from flaxen._src.public import set_module
from flaxen._src.training.checkpoints import naming
from flaxen._src.training.checkpoints.async_manager import AsyncManager
from flaxen._src.training.checkpoints.save import save_prepared, split_prefix, use_orbax


def _has_multiprocess_array(target: Any) -> bool:
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
    gda_manager: accepted for signature compatibility; multi-process arrays
      are saved through Orbax.

  Returns:
    The path of the checkpoint (on every process).

  Raises:
    MPACheckpointingRequiredError: ``target`` holds multi-process arrays and
      the Orbax backend is not in use.
  """
  del gda_manager
  ckpt_dir = os.fspath(ckpt_dir)
  base, pfx = split_prefix(ckpt_dir, prefix)
  path = naming.checkpoint_path(base, step, pfx)
  orbax = use_orbax(orbax_checkpointer)
  if _has_multiprocess_array(target) and not orbax:
    raise errors.MPACheckpointingRequiredError(path, step)
  if orbax or jax.process_index() == 0:
    save_prepared(ckpt_dir, target, step, prefix, keep, overwrite, keep_every_n_steps,
                  async_manager, orbax_checkpointer)
  _barrier(f'flaxen.save_checkpoint_multiprocess:{path}')
  return path
