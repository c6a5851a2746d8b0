"""Errors raised while saving or restoring checkpoints (``flaxen.training.checkpoints``).

Every class keeps its constructor arguments as attributes (``err.path``,
``err.step``, ...) so callers can react programmatically.
"""

from __future__ import annotations

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


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
  """A multi-process (globally sharded) array was saved without an async manager.

  Arrays that span several processes can only be written collectively. Pass a
  ``GlobalAsyncCheckpointManager`` (the ``gda_manager=`` argument) or use the
  Orbax checkpointing backend.

  Args:
    path: the checkpoint path.
    step: the step being saved.
  """

  def __init__(self, path, step):
    self.path = path
    self.step = step
    super().__init__(
      f'Checkpoint failed at step: "{step}" and path: "{path}": Target contains a multiprocess '
      'array should be saved/restored with a GlobalAsyncCheckpointManager.'
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
      f'Restore checkpoint failed at step: "{step}" on multiprocess array at "{path}": No '
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
    where = f' for key "{key}"' if key is not None else ''
    super().__init__(
      f'Restore checkpoint failed at step: "{step}" and path: "{path}"{where}: Checkpoints '
      'containing a multiprocess array need to be restored with a target with pre-created '
      'arrays. If you cannot provide a full valid target, consider '
      '``allow_partial_mpa_restoration=True``.'
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
