"""Saving and restoring through Orbax, the optional checkpointing backend.

Used when ``save_checkpoint`` gets an ``orbax_checkpointer`` or when the flag
``flax_use_orbax_checkpointing`` is on. Orbax writes a *directory* per
checkpoint (``<prefix><step>/``); ``restore_checkpoint`` recognises such
directories and reads them back through Orbax (Orbax needs absolute paths; the
returned checkpoint path keeps the caller's form). Naming, ``keep`` and
``overwrite`` bookkeeping are the same as for msgpack files (see ``save``).
Orbax only stores pytrees: a bare array or scalar raises ``ValueError``.
"""

from __future__ import annotations

import os
from typing import Any

import jax

from flaxen._src.training.orbax_utils import (
  import_orbax,
  restore_args_from_target,
  save_args_from_target,
)

# files Orbax leaves in a checkpoint directory (one is enough to recognise it)
_MARKERS = ('_METADATA', '_CHECKPOINT_METADATA', 'checkpoint', 'manifest.ocdbt', '_sharding')


def looks_like_orbax(path: str) -> bool:
  """Whether ``path`` is a directory written by Orbax."""
  return os.path.isdir(path) and any(os.path.exists(os.path.join(path, m)) for m in _MARKERS)


def default_checkpointer() -> Any:
  ocp = import_orbax()
  return ocp.PyTreeCheckpointer()


def save(path: str, target: Any, overwrite: bool, checkpointer: Any = None) -> None:
  """Writes ``target`` as an Orbax checkpoint directory at ``path``."""
  if not jax.tree_util.tree_leaves(target) or jax.tree_util.treedef_is_leaf(
    jax.tree_util.tree_structure(target)
  ):
    raise ValueError(
      'The Orbax checkpointing backend only saves pytrees (dicts, lists, dataclasses); got '
      f'{type(target).__name__}. Wrap it, e.g. {{"value": x}}, or turn '
      'flax_use_orbax_checkpointing off to use the msgpack format.'
    )
  checkpointer = checkpointer or default_checkpointer()
  checkpointer.save(
    os.path.abspath(path), target, save_args=save_args_from_target(target), force=overwrite
  )


def restore(path: str, target: Any, checkpointer: Any = None, transforms: Any = None) -> Any:
  """Reads the Orbax checkpoint directory ``path`` (raw tree when ``target`` is None)."""
  checkpointer = checkpointer or default_checkpointer()
  kwargs: dict[str, Any] = {}
  if target is not None:
    kwargs['restore_args'] = restore_args_from_target(target)
  if transforms is not None:
    kwargs['transforms'] = transforms
  return checkpointer.restore(os.path.abspath(path), item=target, **kwargs)
