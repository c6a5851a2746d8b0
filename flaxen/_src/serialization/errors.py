"""The one error type that decoding untrusted msgpack bytes may raise.

``msgpack_restore`` and ``from_bytes`` read bytes that may come from anywhere (a
truncated download, a corrupted disk, a crafted file). Whatever is wrong with
them (invalid msgpack, an unknown extension type, an array header whose shape
does not match its payload, a dtype that is not a plain numeric type, a chunked
array whose pieces do not add up, a state that does not fit the target) surfaces
as exactly one exception class, ``MsgpackDecodeError``. It derives from
``FlaxError`` and ``ValueError``, so ``except ValueError`` written for the
reference keeps working.
"""

from __future__ import annotations

from flaxen._src.errors import FlaxError
from flaxen._src.public import set_module


@set_module('flaxen.serialization')
class MsgpackDecodeError(FlaxError, ValueError):
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

  def __init__(self, message: str):
    # The reference has no documentation page for this class, so unlike other
    # flaxen errors no link is appended: the message is the whole text.
    self.message = message
    ValueError.__init__(self, message)
