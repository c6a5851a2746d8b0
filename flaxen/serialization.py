"""flaxen.serialization: state dicts and msgpack bytes (the reference's ``flax.serialization``).

This file only re-exports, plus one documented shim for ``MAX_CHUNK_SIZE``.
"""

import sys as _sys
import types as _types

from flaxen._src.errors.serialization import MsgpackDecodeError as DecodeError  # noqa: F401
from flaxen._src.errors.serialization import MsgpackDecodeError as MsgpackDecodeError
from flaxen._src.serialization import chunking as _chunking
from flaxen._src.serialization.bytes_api import from_bytes as from_bytes
from flaxen._src.serialization.bytes_api import to_bytes as to_bytes
from flaxen._src.serialization.msgpack_codec import msgpack_restore as msgpack_restore
from flaxen._src.serialization.msgpack_codec import msgpack_serialize as msgpack_serialize
from flaxen._src.serialization.state_dict import current_path as current_path
from flaxen._src.serialization.state_dict import from_state_dict as from_state_dict
from flaxen._src.serialization.state_dict import is_serializable as is_serializable
from flaxen._src.serialization.state_dict import (
  register_serialization_state as register_serialization_state,
)
from flaxen._src.serialization.state_dict import to_state_dict as to_state_dict


# Shim (whitelisted in tests/test_facades.py): users and the golden data set
# `serialization.MAX_CHUNK_SIZE = n` on this module and expect the next call to
# honour it. The implementation reads `chunking.MAX_CHUNK_SIZE` at call time, so
# this module's class turns that one name into a property (a data descriptor, so
# reads, writes and pytest's monkeypatch all go through it) that forwards to the
# implementation module. The module dict keeps a mirror of the value, so
# `vars(serialization)` lists it like any module constant.
class _SerializationModule(_types.ModuleType):
  @property
  def MAX_CHUNK_SIZE(self):
    return _chunking.MAX_CHUNK_SIZE

  @MAX_CHUNK_SIZE.setter
  def MAX_CHUNK_SIZE(self, value):
    _chunking.MAX_CHUNK_SIZE = value
    self.__dict__['MAX_CHUNK_SIZE'] = value


_sys.modules[__name__].__dict__['MAX_CHUNK_SIZE'] = _chunking.MAX_CHUNK_SIZE
_sys.modules[__name__].__class__ = _SerializationModule
