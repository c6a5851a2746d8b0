"""flaxen._src.errors.scope: core scope errors, their arguments, and real misuse through Linen."""

import pickle

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'
KEY = jax.random.key(0)
NAMES = (
  'ApplyScopeInvalidVariablesStructureError', 'ApplyScopeInvalidVariablesTypeError',
  'InvalidFilterError', 'InvalidRngError', 'InvalidScopeError', 'JaxTransformError',
  'LazyInitError', 'ModifyScopeVariableError', 'ScopeCollectionNotFound',
  'ScopeParamNotFoundError', 'ScopeParamShapeError', 'ScopeVariableNotFoundError',
)


class Counter(nn.Module):
  @nn.compact
  def __call__(self, x):
    count = self.variable('stats', 'count', jnp.zeros, ())
    count.value += 1
    return x


class Outer(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.Dense(4, name='enc')(x)
    return Counter(name='cnt')(x)


@pytest.mark.parametrize('name', NAMES)
def test_public_module_path(name):
  cls = getattr(errors, name)
  assert cls.__module__ == 'flaxen.errors'
  assert getattr(errors, name) is cls and issubclass(cls, errors.FlaxError)


def test_messages_with_arguments():
  err = errors.ScopeVariableNotFoundError('mean', 'batch_stats', '/a/b')
  assert (err.name, err.col, err.scope_path) == ('mean', 'batch_stats', '/a/b')
  assert str(err) == ('No Variable named "mean" for collection "batch_stats" exists in "/a/b". '
                      f'({URL}ScopeVariableNotFoundError)')
  err = errors.InvalidScopeError('Dense_3')
  assert err.scope_name == 'Dense_3'
  assert err.message == 'The scope "Dense_3" is no longer valid.'
  err = errors.InvalidRngError('rngs must be a dict')
  assert err.msg == 'rngs must be a dict' and err.message == 'rngs must be a dict'
  err = errors.LazyInitError('f32[8,4]')
  assert err.partial_val == 'f32[8,4]' and '(shape: f32[8,4])' in str(err)
  # the reference's sentence verbatim (a word is missing in it), then flaxen's advice
  assert str(err).startswith(
    'Lazy init encountered a value that could with the given inputs (shape: f32[8,4]). It '
    'could not be computed from shapes alone')


def test_key_error_flavours_pickle_and_print_plainly():
  for err in (errors.ScopeParamNotFoundError('w', '/x'),
              errors.ScopeCollectionNotFound('state', 'n', '/y'),
              errors.ScopeVariableNotFoundError('n', 'state', '/y')):
    assert isinstance(err, KeyError)
    assert str(err).startswith(('Could not', 'Tried', 'No Variable'))
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and vars(back) == vars(err)


def test_scope_param_shape_error_attributes():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  with pytest.raises(errors.ScopeParamShapeError) as info:
    Outer().apply(variables, jnp.ones((1, 5)))
  e = info.value
  assert e.param_name == 'kernel' and e.scope_path == '/enc'
  # roles as the reference's today: value_shape is the stored parameter's shape, init_shape
  # the one the initializer gives for the new inputs
  assert tuple(e.value_shape) == (3, 4) and tuple(e.init_shape) == (5, 4)
  assert str(e).startswith(
    'For parameter "kernel" in "/enc", the given initializer is expected to generate shape '
    '(5, 4), but the existing parameter it received has shape (3, 4).')
  assert 'in / (Outer.__call__)' not in e.__notes__  # noted at the innermost module only
  assert 'in /enc (Dense.__call__)' in e.__notes__


def test_modify_scope_variable_error_attributes():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  with pytest.raises(errors.ModifyScopeVariableError) as info:
    Outer().apply(variables, jnp.ones((1, 3)))
  e = info.value
  assert (e.col, e.variable_name, e.scope_path) == ('stats', 'count', '/cnt')
  _, state = Outer().apply(variables, jnp.ones((1, 3)), mutable=['stats'])
  assert state['stats']['cnt']['count'] == 2


def test_collection_not_found_vs_variable_not_found():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  with pytest.raises(errors.ScopeCollectionNotFound) as info:
    Outer().apply({'params': variables['params']}, jnp.ones((1, 3)))
  e = info.value
  assert (e.col_name, e.var_name, e.scope_path) == ('stats', 'count', '/cnt')
  with pytest.raises(errors.ScopeVariableNotFoundError) as info:
    Outer().apply({'params': variables['params'], 'stats': {'cnt': {'other': 0}}},
                  jnp.ones((1, 3)))
  e = info.value
  assert (e.name, e.col, e.scope_path) == ('count', 'stats', '/cnt')


def test_scope_param_not_found_attributes():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  params = {'enc': {'kernel': variables['params']['enc']['kernel']}}
  with pytest.raises(errors.ScopeParamNotFoundError) as info:
    Outer().apply({'params': params, 'stats': variables['stats']}, jnp.ones((1, 3)),
                  mutable=['stats'])
  assert (info.value.param_name, info.value.scope_path) == ('bias', '/enc')


def test_apply_variables_type_and_structure_errors():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  with pytest.raises(errors.ApplyScopeInvalidVariablesTypeError):
    Outer().apply([variables], jnp.ones((1, 3)))
  wrapped = {'params': variables}
  with pytest.raises(errors.ApplyScopeInvalidVariablesStructureError) as info:
    Outer().apply(wrapped, jnp.ones((1, 3)))
  assert info.value.variables is wrapped or info.value.variables == wrapped


def test_invalid_filter_error_from_mutable():
  variables = Outer().init(KEY, jnp.ones((1, 3)))
  with pytest.raises(errors.InvalidFilterError) as info:
    Outer().apply(variables, jnp.ones((1, 3)), mutable=3.5)
  assert info.value.filter_like == 3.5
  assert 'Invalid Filter: "3.5"' in str(info.value)


def test_lazy_init_error_on_value_dependent_param():
  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      k = self.param('kernel', lambda _: x)
      return x * k

  spec = jax.ShapeDtypeStruct((8, 4), jnp.float32)
  with pytest.raises(errors.LazyInitError) as info:
    Foo().lazy_init(KEY, spec)
  assert '(shape: float32[8,4])' in str(info.value)  # the reference's text
  # shape-only usage is fine
  shapes = nn.Dense(2).lazy_init(KEY, spec)
  assert shapes['params']['kernel'].shape == (4, 2)


def test_invalid_rng_error_names_module_and_stream():
  class Noisy(nn.Module):
    @nn.compact
    def __call__(self, x):
      return x + jax.random.normal(self.make_rng('noise'), x.shape)

  class Top(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Noisy(name='n')(x)

  with pytest.raises(errors.InvalidRngError) as info:
    Top().apply({}, jnp.ones(2))
  assert 'noise' in info.value.msg
  assert 'in /n (Noisy.__call__)' in info.value.__notes__
