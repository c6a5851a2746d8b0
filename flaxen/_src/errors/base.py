"""The root of every flaxen error: ``FlaxError``.

Invariants:
  * every message ends with a pointer to the reference documentation of the
    error class, ``(https://flax.readthedocs.io/...#flax.errors.<ClassName>)``;
  * ``str(err)`` is the plain message, even for classes that also derive from
    ``KeyError`` (whose own ``__str__`` would quote it);
  * errors pickle and unpickle whatever their constructor arguments are (the
    message and the instance attributes travel, the constructor is not re-run).
"""

from __future__ import annotations

from flaxen._src.public import set_module

DOCS_URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html'


def _rebuild(cls: type[FlaxError], message: str, state: dict) -> FlaxError:
  """Recreates a pickled error without calling its (class-specific) constructor."""
  err = cls.__new__(cls)
  Exception.__init__(err, message)
  err.__dict__.update(state)
  return err


@set_module('flaxen.errors')
class FlaxError(Exception):
  """Base class of every error raised by flaxen itself.

  Catch ``FlaxError`` to handle any library error at once. Each concrete error
  also derives from the built-in exception that matches its cause
  (``ValueError``, ``TypeError``, ``KeyError``, ...), so existing ``except``
  clauses keep working.

  Args:
    message: what went wrong and how to fix it. A link to the documentation of
      the concrete class is appended.
  """

  def __init__(self, message: str):
    self.message = message
    name = type(self).__name__
    super().__init__(f'{message} ({DOCS_URL}#flax.errors.{name})')

  def __str__(self) -> str:
    if len(self.args) == 1 and isinstance(self.args[0], str):
      return self.args[0]
    return Exception.__str__(self)

  def __reduce__(self):
    return (_rebuild, (type(self), self.args[0] if self.args else '', dict(self.__dict__)))


def add_hint(exc: BaseException, hint: str) -> BaseException:
  """Attaches flaxen's advice to an error that JAX, NumPy or Python raised.

  Where the reference lets such an error surface as it is, flaxen keeps its
  class and message (users' ``except`` clauses and message matching keep
  working) and only adds ``hint`` as a note, shown below the message in
  tracebacks. Python 3.10 has no notes: the error is then left unchanged.

  Args:
    exc: the exception about to be re-raised.
    hint: one sentence saying what to change.

  Returns:
    ``exc`` itself, for ``raise add_hint(e, ...)``.
  """
  if hasattr(exc, 'add_note'):
    exc.add_note(hint)
  return exc
