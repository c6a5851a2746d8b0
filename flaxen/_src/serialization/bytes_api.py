"""``to_bytes`` / ``from_bytes``: state dicts through msgpack, in one call.

``to_bytes(target)`` is ``msgpack_serialize(to_state_dict(target))`` and
``from_bytes(target, data)`` is ``from_state_dict(target, msgpack_restore(data))``.
Bytes that do not decode raise ``MsgpackDecodeError``; bytes that decode but do
not fit ``target`` (a missing key, a list of the wrong length) raise a
``StateMismatchError``, which is a ``MsgpackDecodeError`` too (and carries the
built-in class the reference raises for that case), so callers reading
untrusted files handle one error type. Errors of user-registered handlers pass
through unchanged, as in the reference.
"""

from __future__ import annotations

from typing import Any

from flaxen._src.public import set_module
from flaxen._src.serialization.msgpack_codec import msgpack_restore, msgpack_serialize
from flaxen._src.serialization.state_dict import from_state_dict, to_state_dict


@set_module('flaxen.serialization')
def to_bytes(target: Any) -> bytes:
  """Serializes ``target`` (any registered type: dicts, FrozenDicts, TrainStates, ...) to bytes.

  Args:
    target: the object to save.

  Returns:
    The msgpack bytes of ``to_state_dict(target)``, identical to the reference's.

  Example:
    >>> import numpy as np
    >>> from flaxen import serialization
    >>> data = serialization.to_bytes({'w': np.ones(2, np.float32)})
    >>> serialization.from_bytes({'w': np.zeros(2, np.float32)}, data)['w']
    array([1., 1.], dtype=float32)
  """
  return msgpack_serialize(to_state_dict(target))


@set_module('flaxen.serialization')
def from_bytes(target: Any, encoded_bytes: bytes) -> Any:
  """Restores an object shaped like ``target`` from ``to_bytes`` output.

  Args:
    target: an object with the structure that was saved (its leaf values are
      ignored).
    encoded_bytes: the bytes.

  Returns:
    A new object of the structure of ``target`` whose leaves come from the
    bytes (arrays are restored as numpy arrays).

  Raises:
    MsgpackDecodeError: the bytes are malformed, or (as ``StateMismatchError``)
      they do not match the structure of ``target`` (the message names the
      path of the entry).
  """
  return from_state_dict(target, msgpack_restore(encoded_bytes))
