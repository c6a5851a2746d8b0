"""MsgpackDecodeError: the one documented error of decoding bad bytes."""

import pickle

from flaxen import errors, serialization


def test_class_hierarchy_and_public_names():
  assert serialization.DecodeError is serialization.MsgpackDecodeError
  assert issubclass(serialization.DecodeError, errors.FlaxError)
  assert issubclass(serialization.DecodeError, ValueError)
  assert serialization.DecodeError.__module__ == 'flaxen.serialization'
  assert 'untrusted' in serialization.DecodeError.__doc__ or 'Cause' in serialization.DecodeError.__doc__


def test_message_and_pickling():
  err = serialization.DecodeError('bad header')
  assert str(err) == 'bad header' and err.message == 'bad header'
  again = pickle.loads(pickle.dumps(err))
  assert type(again) is serialization.DecodeError and str(again) == 'bad header'


def test_raised_error_carries_the_msgpack_cause():
  try:
    serialization.msgpack_restore(b'\x92\x01')
  except serialization.DecodeError as e:
    assert isinstance(e.__cause__, ValueError)
    assert 'invalid msgpack data' in e.message
  else:
    raise AssertionError('no error raised')
