"""Errors of ``flaxen.serialization``: bad bytes, and states that do not fit their target.

* ``MsgpackDecodeError`` (public as ``flaxen.serialization.MsgpackDecodeError``
  and ``DecodeError``): the bytes handed to ``msgpack_restore`` / ``from_bytes``
  are not a valid encoding. Decoding untrusted input raises nothing else.
* ``StateMismatchError`` and its three flavours: ``from_state_dict`` (and so
  ``from_bytes``) got a state whose structure does not fit the target. Each
  message *contains* the text the reference library raises for the same case,
  followed by flaxen's explanation, and each class also derives from the
  built-in exception the reference raises there (``ValueError`` for a missing
  key, ``KeyError`` for a missing list entry, ``TypeError`` for a state without a
  length, ``AttributeError`` for a state that is not a mapping), so ``except``
  clauses written for the reference keep working. They are also
  ``MsgpackDecodeError`` s: ``from_bytes`` on untrusted bytes needs one handler.
* ``InvalidStateDictError``: a ``to_state_dict`` handler returned a dict with a
  key that is not a string (the reference fails an assertion there; this class
  is an ``AssertionError`` too).

None of these classes has a page in the reference documentation, so unlike
other ``FlaxError`` s their message carries no link.
"""

from __future__ import annotations

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


class _Unlinked(FlaxError):
  """A ``FlaxError`` whose message is used as given (no documentation link appended)."""

  def __init__(self, message: str):
    self.message = message
    Exception.__init__(self, message)


@set_module('flaxen.serialization')
class MsgpackDecodeError(_Unlinked, ValueError):
  """The bytes given to ``msgpack_restore`` / ``from_bytes`` are not a valid encoding.

  Cause: the input is not msgpack produced by ``msgpack_serialize``/``to_bytes``
  (or it was truncated or corrupted on the way), or it decodes to a state whose
  structure does not match the ``target`` passed to ``from_bytes``. The message
  says what was wrong and, for a structure mismatch, the path of the entry.

  Decoding never runs code (there is no pickle) and never allocates more memory
  than the input bytes justify: an array header must be followed by exactly
  ``prod(shape) * itemsize`` bytes of data, and a chunked array must consist of
  chunks whose sizes add up to its declared shape.

  Fix: check that the file is complete and was written by ``to_bytes`` (or
  ``flax.serialization.to_bytes``); for a mismatch, pass a ``target`` with the
  same structure as the tree that was saved.

  Args:
    message: what is wrong with the input.
  """


@set_module('flaxen.errors')
class StateMismatchError(MsgpackDecodeError):
  """A state dict does not fit the structure of the target it is restored into.

  Raised by ``serialization.from_state_dict`` / ``from_bytes`` (and so by
  ``restore_checkpoint``) when the saved tree lacks an entry the target has, a
  list has another length, a named tuple or dataclass has other fields, or a
  sub-tree was saved where the target has a leaf container (or the reverse).

  The message starts with the text the reference library raises for the same
  case and goes on with the path of the entry (``./params/Dense_0``, built from
  the ``name`` arguments of the nested ``from_state_dict`` calls) and a fix.

  Fix: restore into a target built for the architecture that was saved, or
  restore with ``target=None`` to inspect the raw state dict first.

  Args:
    reference: the reference library's message for this mismatch.
    detail: flaxen's explanation (path, expected vs found, what to do).
  """

  def __init__(self, reference: str, detail: str = ''):
    self.reference = reference
    self.detail = detail
    super().__init__(f'{reference} ({detail})' if detail else reference)


@set_module('flaxen.errors')
class StateMismatchKeyError(StateMismatchError, KeyError):
  """A list or tuple's state dict lacks one of the entries ``'0'``, ``'1'``, ... (``KeyError``).

  See ``StateMismatchError``; like the reference, this case raises a ``KeyError``.
  """


@set_module('flaxen.errors')
class StateMismatchTypeError(StateMismatchError, TypeError):
  """The state of a list or tuple is a leaf, not a state dict (``TypeError``).

  See ``StateMismatchError``; like the reference, this case raises a ``TypeError``.
  """


@set_module('flaxen.errors')
class StateMismatchAttributeError(StateMismatchError, AttributeError):
  """The state of a dict, named tuple or dataclass is a leaf, not a mapping (``AttributeError``).

  See ``StateMismatchError``; like the reference, this case raises an
  ``AttributeError``.
  """


@set_module('flaxen.errors')
class InvalidStateDictError(_Unlinked, TypeError, ValueError, AssertionError):
  """A ``to_state_dict`` handler returned a dict with a key that is not a string.

  State dicts are nested dicts with ``str`` keys (that is what msgpack files and
  checkpoints store). The handler registered with
  ``register_serialization_state`` for the named type broke that rule.

  Fix: make the handler return ``{str(key): ...}``. The class derives from
  ``AssertionError`` (what the reference raises), ``TypeError`` and ``ValueError``.

  Args:
    message: which handler and which key.
  """
