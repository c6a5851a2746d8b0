"""Errors of ``flaxen.cursor``: a ``find`` that does not find exactly one object, and
a tree traversal asked for neither or both of its two modes."""

from __future__ import annotations

from typing import Any

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


@set_module('flaxen.errors')
class CursorFindError(FlaxError, ValueError):
  """``Cursor.find(cond_fn)`` found no object, or more than one, satisfying ``cond_fn``.

  ``find`` promises the single object whose path and value satisfy
  ``cond_fn``. Make the condition stricter (e.g. test the full path) when two
  objects match, or use ``Cursor.find_all`` to visit every match.

  Unlike the reference, which tests the two cursors for truth (and so raises
  ``TypeError`` when the matched values have no ``len``), flaxen reports two
  matches whatever their values.

  Args:
    cursor: the first match, when there were several.
    cursor2: the second match, when there were several.
  """

  def __init__(self, cursor: Any = None, cursor2: Any = None):
    self.cursor = cursor
    self.cursor2 = cursor2
    if cursor is not None and cursor2 is not None:
      message = (
        'More than one object found given the conditions of the cond_fn. The first two '
        f'objects found have the following paths: {cursor._path} and {cursor2._path}'
      )
    else:
      message = 'No object found given the conditions of the cond_fn.'
    super().__init__(message)


@set_module('flaxen.errors')
class TraverseTreeError(FlaxError, ValueError):
  """A cursor's tree walk got both or neither of ``update_fn`` and ``cond_fn``.

  ``Cursor.apply_update`` walks the tree with an ``update_fn`` and
  ``Cursor.find``/``find_all`` with a ``cond_fn``: exactly one of the two
  must be given (passing ``None`` to those methods ends here).

  Args:
    update_fn: the update function given (or ``None``).
    cond_fn: the condition function given (or ``None``).
  """

  def __init__(self, update_fn: Any, cond_fn: Any):
    self.update_fn = update_fn
    self.cond_fn = cond_fn
    if update_fn is None and cond_fn is None:
      message = 'Both update_fn and cond_fn are None. Exactly one of them must be None.'
    else:
      message = (
        'Both update_fn and cond_fn are not None. Exactly one of them must be not None.'
      )
    super().__init__(message)
