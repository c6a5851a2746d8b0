"""flaxen._src.errors.serialization: decode errors and the state-mismatch family."""

import pickle

import pytest

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


def test_state_mismatch_family():
  from flaxen import errors

  assert issubclass(errors.StateMismatchError, serialization.MsgpackDecodeError)
  for cls, builtin in ((errors.StateMismatchKeyError, KeyError),
                       (errors.StateMismatchTypeError, TypeError),
                       (errors.StateMismatchAttributeError, AttributeError)):
    assert issubclass(cls, errors.StateMismatchError) and issubclass(cls, builtin)
    assert issubclass(cls, ValueError) and cls.__module__ == 'flaxen.errors'
    err = cls("'x'", 'the state dict at path ./a has no entry ./a/x')
    assert str(err) == "'x' (the state dict at path ./a has no entry ./a/x)"
    assert (err.reference, err.detail) == ("'x'", 'the state dict at path ./a has no entry ./a/x')
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err) and back.reference == "'x'"
  assert str(errors.StateMismatchError('only the reference text')) == 'only the reference text'


def test_invalid_state_dict_error():
  from flaxen import errors

  err = errors.InvalidStateDictError('A state dict must only have string keys.')
  assert isinstance(err, AssertionError) and isinstance(err, TypeError)
  assert isinstance(err, ValueError)
  assert isinstance(err, errors.FlaxError) and str(err) == 'A state dict must only have string keys.'
  assert type(pickle.loads(pickle.dumps(err))) is errors.InvalidStateDictError


def test_errors_have_one_home():
  # every error class lives under flaxen._src.errors; the old modules are gone
  import importlib

  from flaxen import errors
  from flaxen.training import checkpoints

  for cls in (serialization.MsgpackDecodeError, checkpoints.CheckpointCorruptedError,
              checkpoints.CheckpointMismatchError, errors.StateMismatchError):
    assert getattr(errors, cls.__name__) is cls
    assert importlib.import_module('flaxen._src.errors').__dict__[cls.__name__] is cls
  for gone in ('flaxen._src.serialization.errors', 'flaxen._src.training.checkpoints.errors'):
    with pytest.raises(ImportError):
      importlib.import_module(gone)
