"""flaxen._src.errors.module: Module-system errors, their arguments, and real misuse."""

import functools
import pickle

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'
KEY = jax.random.key(0)
NAMES = (
  'ApplyModuleInvalidMethodError', 'AssignSubModuleError', 'CallCompactUnboundModuleError',
  'CallSetupUnboundModuleError', 'CallShareScopeOnUnboundModuleError',
  'CallUnbindOnUnboundModuleError', 'DescriptorAttributeError',
  'IncorrectPostInitOverrideError', 'InvalidInstanceModuleError', 'MultipleMethodsCompactError',
  'NameInUseError', 'ReservedModuleAttributeError', 'SetAttributeFrozenModuleError',
  'SetAttributeInModuleSetupError',
)


@pytest.mark.parametrize('name', NAMES)
def test_public_module_path(name):
  cls = getattr(errors, name)
  assert cls.__module__ == 'flaxen.errors' and cls.__name__ == name
  assert issubclass(cls, errors.FlaxError)


def test_messages_with_arguments_and_attributes():
  err = errors.NameInUseError('variable', 'mean', 'BatchNorm')
  assert (err.key_type, err.value, err.module_name) == ('variable', 'mean', 'BatchNorm')
  assert err.message == 'Could not create variable "mean" in Module BatchNorm: Name in use.'
  err = errors.SetAttributeFrozenModuleError('Foo', 'features', [1, 2])
  assert (err.module_cls, err.attr_name, err.attr_val) == ('Foo', 'features', [1, 2])
  assert err.message.startswith("Can't set features=[1, 2] for Module of type Foo:")
  err = errors.AssignSubModuleError('Conv')
  assert err.cls == 'Conv'
  assert str(err) == ('Submodule Conv must be defined in `setup()` or in a method wrapped in '
                      f'`@compact` ({URL}AssignSubModuleError)')
  err = errors.ReservedModuleAttributeError({'parent': int})
  assert err.annotations == {'parent': int}
  assert "{'parent': <class 'int'>}" in str(err)
  err = errors.ApplyModuleInvalidMethodError('not_a_method')
  assert err.method == 'not_a_method'
  assert 'Cannot call apply(): not_a_method is not a valid function' in str(err)


def test_builtin_bases():
  assert issubclass(errors.SetAttributeFrozenModuleError, AttributeError)
  assert issubclass(errors.SetAttributeInModuleSetupError, AttributeError)
  assert issubclass(errors.NameInUseError, ValueError)
  assert issubclass(errors.CallShareScopeOnUnboundModuleError, ValueError)
  assert issubclass(errors.ReservedModuleAttributeError, TypeError)
  assert issubclass(errors.InvalidInstanceModuleError, TypeError)
  assert issubclass(errors.AssignSubModuleError, RuntimeError)
  assert not issubclass(errors.DescriptorAttributeError, AttributeError)


def test_pickle_round_trip_keeps_arguments():
  for err in (errors.NameInUseError('param', 'k', 'M'),
              errors.SetAttributeFrozenModuleError('M', 'a', (1,)),
              errors.ReservedModuleAttributeError({'name': 'int'}),
              errors.IncorrectPostInitOverrideError()):
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and vars(back) == vars(err)


# --- raised through real misuse, as on the errors page ---

def test_name_in_use_param_then_submodule():
  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.param('bar', nn.initializers.zeros_init(), (1,))
      nn.Embed(num_embeddings=2, features=5, name='bar')
      return x

  with pytest.raises(errors.NameInUseError) as info:
    Foo().init(KEY, jnp.ones((1,)))
  e = info.value
  assert (e.key_type, e.value, e.module_name) == ('submodule', 'bar', 'Foo')
  assert 'in / (Foo.__call__)' in e.__notes__


def test_name_in_use_sharing_by_name_instead_of_instance():
  class Wrong(nn.Module):
    @nn.compact
    def __call__(self, x):
      y = nn.Dense(3, name='bar')(x)
      return nn.Dense(3, name='bar')(x + 1e-3) + y

  class Right(nn.Module):
    @nn.compact
    def __call__(self, x):
      dense = nn.Dense(3, name='bar')
      return dense(x) + dense(x + 1e-3)

  with pytest.raises(errors.NameInUseError, match='submodule "bar" in Module Wrong'):
    Wrong().init(KEY, jnp.ones((1, 2)))
  assert list(Right().init(KEY, jnp.ones((1, 2)))['params']) == ['bar']


def test_assign_submodule_error_names_the_class():
  class Foo(nn.Module):
    def setup(self):
      self.conv = functools.partial(nn.Conv, features=3)

    def __call__(self, x):
      return self.conv(kernel_size=4)(x)

  with pytest.raises(errors.AssignSubModuleError) as info:
    Foo().init(KEY, jnp.zeros((1, 4, 1)))
  assert info.value.cls == 'Conv'


def test_set_attribute_frozen_records_value():
  class SomeModule(nn.Module):
    x: int = 1

    @nn.compact
    def __call__(self, y):
      self.x = 7
      return y

  with pytest.raises(errors.SetAttributeFrozenModuleError) as info:
    SomeModule().init(KEY, 1.0)
  e = info.value
  assert (e.module_cls, e.attr_name, e.attr_val) == ('SomeModule', 'x', 7)
  with pytest.raises(AttributeError):  # the built-in base catches it as well
    SomeModule().init(KEY, 1.0)


def test_unbound_misuse_errors():
  class MyModule(nn.Module):
    def setup(self):
      self.d = nn.Dense(2)

    def __call__(self, x):
      return self.d(x)

  with pytest.raises(errors.CallUnbindOnUnboundModuleError):
    MyModule().unbind()
  with pytest.raises(errors.CallSetupUnboundModuleError):
    MyModule().setup()
  with pytest.raises(errors.CallCompactUnboundModuleError):
    nn.Dense(3)(jnp.ones((1, 2)))
  with pytest.raises(errors.CallShareScopeOnUnboundModuleError):
    nn.share_scope(nn.Dense(2), nn.Dense(3))
  with pytest.raises(errors.InvalidInstanceModuleError):
    MyModule.init(KEY, jnp.ones((1, 2)))
  with pytest.raises(errors.ApplyModuleInvalidMethodError) as info:
    nn.Dense(3).apply({}, jnp.ones((1, 2)), method=42)
  assert info.value.method == 42


def test_class_definition_errors():
  with pytest.raises(errors.ReservedModuleAttributeError) as info:
    class Bad(nn.Module):
      parent: int = 0
  assert 'parent' in info.value.annotations

