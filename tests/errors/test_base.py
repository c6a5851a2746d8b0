"""flaxen._src.errors.base: ``FlaxError``, its docs link, ``str`` and pickling."""

import pickle

import pytest

from flaxen import errors

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'


class MyKeyError(errors.FlaxError, KeyError):
  """A user-defined KeyError flavoured FlaxError with a custom constructor."""

  def __init__(self, a, b=2):
    self.a = a
    self.b = b
    super().__init__(f'a={a} b={b}')


class Unrelated(errors.FlaxError):
  pass


def test_public_identity():
  assert errors.FlaxError.__module__ == 'flaxen.errors'
  assert errors.FlaxError.__qualname__ == 'FlaxError'
  assert issubclass(errors.FlaxError, Exception)
  assert not issubclass(errors.FlaxError, (ValueError, TypeError, KeyError))


def test_message_attribute_and_link_to_concrete_class():
  err = errors.FlaxError('boom')
  assert err.message == 'boom'
  assert str(err) == f'boom ({URL}FlaxError)'
  assert err.args == (str(err),)
  # a subclass links to its own page, not to FlaxError's
  assert str(Unrelated('x')) == f'x ({URL}Unrelated)'
  assert Unrelated('x').message == 'x'


def test_key_error_flavour_prints_unquoted():
  err = MyKeyError(1)
  assert str(err) == f'a=1 b=2 ({URL}MyKeyError)'
  # plain KeyError would quote the message; FlaxError must not
  assert not str(err).startswith("'")
  with pytest.raises(KeyError) as info:
    raise err
  assert str(info.value).startswith('a=1')


def test_str_falls_back_for_non_string_args():
  err = errors.FlaxError('m')
  err.args = (1, 2)
  assert str(err) == '(1, 2)'


def test_pickle_does_not_rerun_custom_constructor():
  err = MyKeyError([1, 2], b='x')
  back = pickle.loads(pickle.dumps(err))
  assert type(back) is MyKeyError
  assert (back.a, back.b, back.message) == ([1, 2], 'x', err.message)
  assert str(back) == str(err)
  # the link is not appended a second time
  assert str(back).count(URL) == 1


def test_pickle_keeps_extra_attributes():
  err = errors.FlaxError('m')
  err.extra = {'k': (1, 2)}
  back = pickle.loads(pickle.dumps(err, protocol=pickle.HIGHEST_PROTOCOL))
  assert back.extra == {'k': (1, 2)}
  assert isinstance(back, errors.FlaxError)


def test_catch_all_base():
  for exc in (errors.NameInUseError('param', 'w', 'M'), errors.JaxTransformError(),
              errors.InvalidCheckpointError('/p', 1), errors.TransformTargetError(3)):
    with pytest.raises(errors.FlaxError):
      raise exc
