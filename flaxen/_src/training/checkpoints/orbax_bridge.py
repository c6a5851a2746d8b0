"""Saving and restoring Orbax checkpoints the way the reference does, with stronger commit rules.

Orbax writes a *directory* per checkpoint (``<prefix><step>/``). What the
reference does, and this module too:

* save: wait for a pending save of an ``AsyncCheckpointer``; default to
  ``Checkpointer(PyTreeCheckpointHandler())``; refuse a single leaf (the
  reference's message) unless the handler is an ``ArrayCheckpointHandler``; save
  the target pytree itself, so the directory holds the same metadata tree as
  the reference's;
* restore: wait for a pending async save; with a target, pass
  ``restore_args_from_target`` and (for pytree handlers) the transformations
  that let a smaller target or ``None`` leaves restore; then convert Orbax's
  result to a state dict and rebuild the target from it (``from_state_dict``),
  so keys come back in the target's order and leaves as the reference returns
  them (a ``TrainState.step`` saved as a Python int stays an int); without a
  target, the state dict itself (lists become ``{'0': ..}`` dicts).

What is stronger than the reference (kill safety):

* a directory counts as a checkpoint only once Orbax *committed* it
  (``commit_success.txt``, or a commit timestamp in ``_CHECKPOINT_METADATA``;
  directories from Orbax versions that wrote neither are accepted as legacy);
  Orbax itself writes into ``<name>.orbax-checkpoint-tmp`` and renames at the
  end, so a killed save never leaves a half-written directory under the name;
* the checkpoint is written under a hidden staging name (Orbax commits it
  there), hashed into an integrity record (see ``records``), then renamed into
  place; replacing an existing checkpoint (``overwrite=True``) therefore never
  deletes it first, as Orbax's ``force`` would, and a kill during the save
  keeps the old one. Deletion (``atomic.remove_entry``) takes the name away
  before removing any file. (An ``AsyncCheckpointer`` saving a new name writes
  it directly, committed by Orbax in the background; its record follows once
  it finished. Remote paths use Orbax's own semantics and get no record.)
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax

from flaxen._src import io
from flaxen._src.serialization.state_dict import from_state_dict, to_state_dict
from flaxen._src.training import orbax_utils
from flaxen._src.training.checkpoints import atomic, naming, records

COMMIT_SUCCESS_FILE = 'commit_success.txt'
ORBAX_CKPT_FILENAME = 'checkpoint'
ORBAX_MANIFEST_OCDBT = 'manifest.ocdbt'
ORBAX_METADATA_FILENAME = '_METADATA'
STEP_METADATA_FILENAME = '_CHECKPOINT_METADATA'
_LEAF_MESSAGE = (
  'Orbax backend only accept pytree as save target. To save singular objects like numbers or '
  'Numpy arrays, checkout https://flax.readthedocs.io/en/latest/guides/training_techniques/'
  'use_checkpointing.html#if-you-don-t-save-pytrees'
)


def looks_like_orbax(path: str) -> bool:
  """Whether ``path`` holds one of the files the reference recognises Orbax checkpoints by."""
  names = (ORBAX_CKPT_FILENAME, ORBAX_METADATA_FILENAME, ORBAX_MANIFEST_OCDBT)
  return any(io.exists(os.path.join(path, n)) for n in names)


def uncommitted_reason(path: str) -> str | None:
  """None if directory ``path`` is a committed Orbax checkpoint, else why it is not one."""
  if not looks_like_orbax(path):
    return ('a directory that is not an Orbax checkpoint (none of checkpoint, _METADATA, '
            'manifest.ocdbt in it)')
  if io.exists(os.path.join(path, COMMIT_SUCCESS_FILE)):
    return None
  meta = os.path.join(path, STEP_METADATA_FILENAME)
  if not io.exists(meta):
    return None  # an Orbax version that wrote no commit marker at all
  try:
    with io.GFile(meta, 'rb') as f:
      committed = json.loads(f.read()).get('commit_timestamp_nsecs') is not None
  except (OSError, ValueError, AttributeError):
    committed = False
  return None if committed else 'an Orbax checkpoint that Orbax never committed'


def wait_if_async(checkpointer: Any) -> None:
  """Waits for the pending save of an Orbax ``AsyncCheckpointer`` (no-op for anything else)."""
  ocp = orbax_utils.ocp
  if checkpointer is not None and ocp is not None and isinstance(checkpointer,
                                                                 ocp.AsyncCheckpointer):
    checkpointer.wait_until_finished()


def default_checkpointer() -> Any:
  ocp = orbax_utils.import_orbax()
  return ocp.Checkpointer(ocp.PyTreeCheckpointHandler())


def check_target(target: Any, checkpointer: Any) -> Any:
  """The checkpointer to use; raises the reference's ``ValueError`` for a single leaf."""
  ocp = orbax_utils.import_orbax()
  wait_if_async(checkpointer)
  checkpointer = checkpointer or default_checkpointer()
  single = jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(target))
  if single and not isinstance(getattr(checkpointer, '_handler', None),
                               ocp.ArrayCheckpointHandler):
    raise ValueError(_LEAF_MESSAGE)
  return checkpointer


def save(path: str, target: Any, overwrite: bool, checkpointer: Any, token: str) -> bool:
  """Writes ``target`` as the Orbax checkpoint directory ``path`` (see the module doc).

  Returns:
    Whether the integrity record was written too (not for an ``AsyncCheckpointer``
    writing a new name, whose commit happens later, nor for remote paths).

  Raises:
    ValueError: ``path`` exists and ``overwrite`` is False (Orbax's message).
  """
  exists = io.exists(path) or (io.is_local() and os.path.lexists(path))
  if exists and not overwrite:
    raise ValueError(f'Destination {path} already exists.')
  if not io.is_local():
    checkpointer.save(path, target, force=overwrite)
    return False
  ocp = orbax_utils.import_orbax()
  if isinstance(checkpointer, ocp.AsyncCheckpointer) and not exists:
    checkpointer.save(os.path.abspath(path), target)  # Orbax commits it in the background
    return False
  staging = naming.helper_path(path, 'staging', token)
  checkpointer.save(os.path.abspath(staging), target)
  wait_if_async(checkpointer)
  records.publish(path, records.tree_digest(staging), lambda: _swap(staging, path, token), token)
  return True


def _swap(staging: str, path: str, token: str) -> None:
  """Moves the committed ``staging`` directory to ``path``, replacing what is there."""
  trash = None
  if os.path.lexists(path):
    trash = naming.helper_path(path, 'trash', token)
    os.rename(path, trash)
  try:
    os.rename(staging, path)
  except OSError:
    if trash is None and os.path.lexists(path):
      atomic.discard(staging)
      raise ValueError(f'Destination {path} already exists.') from None
    raise
  atomic.fsync_dir(os.path.dirname(path) or '.')
  if trash is not None:
    atomic.discard(trash)


def absolute(path: str) -> str:
  """``path`` as Orbax needs it: absolute, unless it has a URL scheme."""
  # (the pattern matches every string: never None)
  return path if naming.SCHEME_RE.match(path)['scheme'] else os.path.abspath(path)  # type: ignore[index]


def restore(path: str, target: Any, checkpointer: Any = None, transforms: Any = None) -> Any:
  """Reads the Orbax checkpoint directory ``path`` as the reference does (see the module doc)."""
  ocp = orbax_utils.import_orbax()
  wait_if_async(checkpointer)
  checkpointer = checkpointer or default_checkpointer()
  kwargs: dict[str, Any] = {}
  if target is not None:
    kwargs['restore_args'] = orbax_utils.restore_args_from_target(target)
    if isinstance(getattr(checkpointer, '_handler', None), ocp.PyTreeCheckpointHandler):
      kwargs['transforms'] = orbax_utils.maybe_construct_transformations(target, transforms)
  restored = to_state_dict(checkpointer.restore(absolute(path), item=target, **kwargs))
  return restored if target is None else from_state_dict(target, restored)
