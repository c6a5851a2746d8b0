"""The two restore errors that the reference does not have.

* ``CheckpointCorruptedError``: the file named as a checkpoint is not a complete,
  decodable checkpoint (truncated, overwritten, not msgpack). Nothing is restored
  (never a partial state). It derives from ``MsgpackDecodeError`` (hence
  ``ValueError``), so handlers written for decode errors catch it too.
* ``CheckpointMismatchError``: ``restore_checkpoint(..., strict=True)`` found that
  the file does not fit the target; it lists *every* missing, unexpected,
  shape-, dtype- and kind-mismatched entry by path in one message.
"""

from __future__ import annotations

from collections.abc import Sequence

from flaxen._src.errors import FlaxError
from flaxen._src.public import set_module
from flaxen._src.serialization.errors import MsgpackDecodeError

_PUBLIC = 'flaxen.training.checkpoints'


@set_module(_PUBLIC)
class CheckpointCorruptedError(MsgpackDecodeError):
  """A checkpoint file is incomplete or damaged; nothing was restored.

  Files written by ``save_checkpoint`` appear atomically, so this means the file
  was damaged afterwards (a partial copy, a full disk while copying, a storage
  fault) or it was not written by a checkpoint saver. ``latest_checkpoint``
  never returns such a file; ``restore_checkpoint`` raises this error instead of
  silently falling back to an older step.

  Fix: restore an older step (``err.fallback`` is the newest complete
  checkpoint of the directory, or None), or move the damaged file away.

  Args:
    path: the damaged file.
    reason: what is wrong with it.
    fallback: the newest complete checkpoint next to it, if any.
  """

  def __init__(self, path: str, reason: str, fallback: str | None = None):
    self.path = path
    self.reason = reason
    self.fallback = fallback
    hint = (
      f' The newest complete checkpoint in that directory is "{fallback}".'
      if fallback else ' No complete checkpoint was found next to it.'
    )
    super().__init__(
      f'Checkpoint file "{path}" is corrupted or incomplete ({reason}); nothing was '
      f'restored.{hint} Restore another step or move the damaged file away.'
    )


@set_module(_PUBLIC)
class CheckpointMismatchError(FlaxError, ValueError):
  """A checkpoint does not fit the target given to ``restore_checkpoint(strict=True)``.

  Every difference is listed by path (``/``-joined state-dict keys): entries the
  target needs but the file lacks (*missing*), entries of the file the target has
  no place for (*unexpected*), arrays of a different shape or dtype, and places
  where one side has a sub-tree and the other a leaf (*kind*).

  Fix: build the target for the architecture that was saved, or restore with
  ``target=None`` and convert the raw state dict (then
  ``serialization.from_state_dict``).

  Attributes:
    path: the checkpoint file.
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
    lines += [f'  shape mismatch at {p}: target {a}, checkpoint {b}' for p, a, b in self.shape_mismatches]
    lines += [f'  dtype mismatch at {p}: target {a}, checkpoint {b}' for p, a, b in self.dtype_mismatches]
    lines += [f'  kind mismatch at {p}: target {a}, checkpoint {b}' for p, a, b in self.kind_mismatches]
    n = sum(map(len, (self.missing, self.unexpected, self.shape_mismatches,
                      self.dtype_mismatches, self.kind_mismatches)))
    lines.append(f'{n} difference(s); nothing was restored.')
    Exception.__init__(self, '\n'.join(lines))
    self.message = self.args[0]
