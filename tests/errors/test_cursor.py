"""flaxen._src.errors.cursor: CursorFindError and TraverseTreeError, messages as the reference's."""

import pickle

import pytest

from flaxen import errors

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'


class _FakeCursor:
  def __init__(self, path):
    self._path = path


def test_find_error_messages():
  err = errors.CursorFindError()
  assert str(err) == f'No object found given the conditions of the cond_fn. ({URL}CursorFindError)'
  two = errors.CursorFindError(_FakeCursor("['a']"), _FakeCursor('.b[0]'))
  assert str(two) == (
    'More than one object found given the conditions of the cond_fn. The first two objects '
    f"found have the following paths: ['a'] and .b[0] ({URL}CursorFindError)"
  )
  # only one cursor: treated as "nothing found", as in the reference
  assert str(errors.CursorFindError(_FakeCursor('.x'))).startswith('No object found')
  assert isinstance(two, ValueError) and isinstance(two, errors.FlaxError)


def test_traverse_tree_error_messages():
  neither = errors.TraverseTreeError(None, None)
  assert neither.message == 'Both update_fn and cond_fn are None. Exactly one of them must be None.'
  both = errors.TraverseTreeError(print, print)
  assert both.message == (
    'Both update_fn and cond_fn are not None. Exactly one of them must be not None.'
  )
  assert both.update_fn is print and both.cond_fn is print
  assert str(both).endswith(f'({URL}TraverseTreeError)')


@pytest.mark.parametrize('err', [
  errors.CursorFindError(), errors.TraverseTreeError(None, None),
  errors.ImmutableVariableError('nope'), errors.TraceContextError('nope'),
])
def test_pickle_round_trip(err):
  back = pickle.loads(pickle.dumps(err))
  assert type(back) is type(err) and str(back) == str(err)


def test_nnx_only_errors_take_a_message():
  assert errors.ImmutableVariableError('x is immutable').message == 'x is immutable'
  assert errors.TraceContextError('wrong trace').message == 'wrong trace'
  assert issubclass(errors.ImmutableVariableError, ValueError)
  assert issubclass(errors.TraceContextError, RuntimeError)
