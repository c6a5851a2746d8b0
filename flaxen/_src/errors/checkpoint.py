"""Errors raised while saving or restoring checkpoints (``flaxen.training.checkpoints``).

The reference's classes (``AlreadyExistsError``, ``InvalidCheckpointError`` and
the ``MPA*`` family, public in ``flaxen.errors``) and the two restore errors
flaxen adds (public in ``flaxen.training.checkpoints`` and ``flaxen.errors``):

* ``CheckpointCorruptedError``: the checkpoint is not complete and intact
  (truncated, its integrity record does not match, not a committed Orbax
  directory, unreadable). Nothing is restored; ``err.fallback`` names the newest
  intact checkpoint beside it. It is a ``MsgpackDecodeError`` (so a
  ``ValueError``): handlers written for decode errors catch it too.
* ``CheckpointMismatchError``: ``restore_checkpoint(..., strict=True)`` found that
  the checkpoint does not fit the target; it lists *every* missing, unexpected,
  shape-, dtype- and kind-mismatched entry by path in one message.

Every class keeps its constructor arguments as attributes (``err.path``,
``err.step``, ...) so callers can react programmatically.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized

from flaxen._src.errors.base import FlaxError
from flaxen._src.errors.serialization import MsgpackDecodeError
from flaxen._src.public import set_module

_CHECKPOINTS = 'flaxen.training.checkpoints'


@set_module('flaxen.errors')
class AlreadyExistsError(FlaxError, FileExistsError):
  """A checkpoint file would be overwritten.

  Saving copies or renames a temporary file onto its final name. If a file is
  already there and ``overwrite=True`` was not passed, the save stops instead of
  destroying it. Pass ``overwrite=True`` or choose another directory / prefix.

  Args:
    path: the file that already exists.
  """

  def __init__(self, path):
    self.path = path
    super().__init__(f'Trying overwrite an existing file: "{path}".')


@set_module('flaxen.errors')
class InvalidCheckpointError(FlaxError, ValueError):
  """A checkpoint at a step not newer than an existing one was about to be saved.

  ``save_checkpoint`` refuses to write step ``n`` when the directory already
  holds a checkpoint for step ``n`` or later, because the older one would shadow
  it at restore time. Save with ``overwrite=True`` to replace the newer
  checkpoints, or use a fresh directory.

  Args:
    path: the checkpoint path that was requested.
    step: the outdated step.
  """

  def __init__(self, path, step):
    self.path = path
    self.step = step
    super().__init__(f'Trying to save an outdated checkpoint at step: "{step}" and path: "{path}".')


@set_module('flaxen.errors')
class MPACheckpointingRequiredError(FlaxError, ValueError):
  """Arrays that span several processes were about to go into a msgpack checkpoint.

  A ``jax.Array`` sharded over devices of several processes is not fully
  addressable from any one of them, so no process can write it into a single
  msgpack file. The reference library routes such arrays through a
  ``GlobalAsyncCheckpointManager`` (``gda_manager=``); flaxen saves them with
  Orbax instead, every process writing its own shards.

  Fix: keep ``flax_use_orbax_checkpointing`` on (the default; it was turned
  off with ``flaxen.config.update('flax_use_orbax_checkpointing', False)``) or
  pass ``orbax_checkpointer=`` to ``save_checkpoint_multiprocess``.

  Args:
    path: the checkpoint path.
    step: the step being saved.
  """

  def __init__(self, path, step):
    self.path = path
    self.step = step
    super().__init__(
      f'Checkpoint failed at step: "{step}" and path: "{path}": Target contains a multiprocess '
      'array should be saved/restored with a GlobalAsyncCheckpointManager. flaxen has no '
      'GlobalAsyncCheckpointManager path: it writes arrays that span processes with Orbax. '
      'Turn Orbax checkpointing back on with '
      'flaxen.config.update("flax_use_orbax_checkpointing", True) (the default), or pass '
      'orbax_checkpointer=orbax.checkpoint.PyTreeCheckpointer() to save_checkpoint_multiprocess.'
    )


@set_module('flaxen.errors')
class MPARestoreDataCorruptedError(FlaxError, ValueError):
  """The multi-process array directory of a checkpoint is incomplete.

  A completed multi-process save leaves a ``commit_success.txt`` file in its
  array directory. Without it the save was interrupted and the data cannot be
  trusted; restore an earlier step instead.

  Args:
    step: the step being restored.
    path: the checkpoint path.
  """

  def __init__(self, step, path):
    self.step = step
    self.path = path
    super().__init__(
      f'Restore checkpoint failed at step: "{step}" on multiprocess array at  "{path}": No '
      '"commit_success.txt" found on this "_gda" directory. Was its save halted before '
      'completion?'
    )


@set_module('flaxen.errors')
class MPARestoreTargetRequiredError(FlaxError, ValueError):
  """Multi-process arrays were restored without a target holding their layout.

  Sharded arrays are rebuilt into pre-created arrays of the target, which carry
  the mesh and sharding. Pass a ``target`` whose leaves are such arrays, or
  ``allow_partial_mpa_restoration=True`` to get the other leaves only.

  Args:
    path: the checkpoint path.
    step: the step being restored.
    key: optionally, the key of the array that had no target.
  """

  def __init__(self, path, step, key=None):
    self.path = path
    self.step = step
    self.key = key
    which = f'This error fired when trying to restore array at {key}.' if key else ''
    super().__init__(
      f'Restore checkpoint failed at step: "{step}" and path: "{path}": Checkpoints '
      'containing a multiprocess array need to be restored with a target with pre-created '
      'arrays. If you cannot provide a full valid target, consider '
      f'``allow_partial_mpa_restoration=True``. {which}'
    )


@set_module('flaxen.errors')
class MPARestoreTypeNotMatchError(FlaxError, TypeError):
  """The target's array type differs from the type the checkpoint was saved with.

  The multi-process arrays of a checkpoint must be restored into arrays of the
  same kind (global ``jax.Array`` versus legacy global device arrays). Build the
  target with the same array type that was used at save time.

  Args:
    step: the step being restored.
    gda_path: the path of the array directory.
  """

  def __init__(self, step, gda_path):
    self.step = step
    self.gda_path = gda_path
    super().__init__(
      f'Restore checkpoint failed at step: "{step}" on multiprocess array at "{gda_path}": '
      'The array type provided by the target does not match the JAX global configuration, '
      'namely the jax.config.jax_array.'
    )


@set_module(_CHECKPOINTS)
class CheckpointCorruptedError(MsgpackDecodeError):
  """A checkpoint is incomplete or damaged; nothing was restored.

  Files written by ``save_checkpoint`` appear atomically together with an
  integrity record (size and SHA-256 of the bytes), and Orbax directories only
  take their name once Orbax committed them. This error therefore means the
  checkpoint was damaged afterwards (a partial copy, a full disk while copying,
  flipped bits on storage), or that the path is not a checkpoint at all (a
  plain directory, a dangling symlink, an unreadable file).

  ``restore_checkpoint(ckpt_dir)`` and ``latest_checkpoint`` skip damaged
  checkpoints and use the newest intact one; this error is raised when a
  damaged checkpoint was named explicitly (its path, or ``step=``), or when no
  intact checkpoint is left.

  Fix: restore ``err.fallback`` (the newest intact checkpoint of the
  directory, or None) or another step, and move the damaged one away.

  Args:
    path: the damaged checkpoint.
    reason: what is wrong with it.
    fallback: the newest intact checkpoint next to it, if any.
  """

  def __init__(self, path: str, reason: str, fallback: str | None = None):
    self.path = path
    self.reason = reason
    self.fallback = fallback
    if fallback:
      hint = (f' The newest intact checkpoint in that directory is "{fallback}": restore it '
              'with restore_checkpoint(<that path>, target), or move the damaged one away.')
    else:
      hint = ' No intact checkpoint was found next to it.'
    super().__init__(
      f'Checkpoint "{path}" is corrupted or incomplete ({reason}); nothing was restored.{hint}'
    )


@set_module(_CHECKPOINTS)
class CheckpointMismatchError(FlaxError, ValueError):
  """A checkpoint does not fit the target given to ``restore_checkpoint(strict=True)``.

  Every difference is listed by path (``/``-joined state-dict keys): entries the
  target needs but the checkpoint lacks (*missing*), entries of the checkpoint
  the target has no place for (*unexpected*), arrays of another shape or dtype,
  and places where one side has a sub-tree, an array or a plain value and the
  other side something else (*kind*, e.g. a saved ``None`` where the target
  holds an array).

  Fix: build the target for the architecture that was saved, or restore with
  ``target=None`` and convert the raw state dict (then
  ``serialization.from_state_dict``).

  Attributes:
    path: the checkpoint.
    missing, unexpected: lists of paths.
    shape_mismatches, dtype_mismatches, kind_mismatches: lists of
      ``(path, target's, checkpoint's)`` triples.
  """

  def __init__(
    self,
    path: str,
    missing: Sequence[str] = (),
    unexpected: Sequence[str] = (),
    shape_mismatches: Sequence[tuple] = (),
    dtype_mismatches: Sequence[tuple] = (),
    kind_mismatches: Sequence[tuple] = (),
  ):
    self.path = path
    self.missing = list(missing)
    self.unexpected = list(unexpected)
    self.shape_mismatches = list(shape_mismatches)
    self.dtype_mismatches = list(dtype_mismatches)
    self.kind_mismatches = list(kind_mismatches)
    lines = [f'Checkpoint "{path}" does not match the target:']
    lines += [f'  missing in checkpoint: {p}' for p in self.missing]
    lines += [f'  unexpected in checkpoint: {p}' for p in self.unexpected]
    for label, triples in (('shape', self.shape_mismatches), ('dtype', self.dtype_mismatches),
                           ('kind', self.kind_mismatches)):
      lines += [f'  {label} mismatch at {p}: target {a}, checkpoint {b}' for p, a, b in triples]
    groups: tuple[Sized, ...] = (self.missing, self.unexpected, self.shape_mismatches,
                                 self.dtype_mismatches, self.kind_mismatches)
    count = sum(map(len, groups))
    lines.append(f'{count} difference(s); nothing was restored.')
    self.message = '\n'.join(lines)
    Exception.__init__(self, self.message)
