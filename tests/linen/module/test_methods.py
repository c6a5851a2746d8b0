"""flaxen._src.linen.module.methods: wrapping of user methods and descriptors."""

import abc

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

KEY = jax.random.key(0)


class Tool(nn.Module):
  features: int = 2

  def setup(self):
    self.dense = nn.Dense(self.features)

  def encode(self, x):
    return self.dense(x)

  def fail(self, x):
    raise KeyError('missing thing')

  @nn.nowrap
  def helper(self, x):
    return x * self.features

  @staticmethod
  def static(x):
    return x + 1

  @classmethod
  def make(cls):
    return cls(5)

  @property
  def doubled(self):
    return self.features * 2

  @property
  def broken(self):
    return self.no_such_attribute

  def __call__(self, x):
    return self.encode(x)


def test_user_methods_are_wrapped_once_and_others_are_not():
  for name in ('setup', 'encode', 'fail', '__call__'):
    assert getattr(Tool.__dict__[name], 'method_handler_wrapped', False), name
  assert not getattr(Tool.__dict__['helper'], 'method_handler_wrapped', False)
  assert isinstance(Tool.__dict__['static'], staticmethod)
  assert isinstance(Tool.__dict__['make'], classmethod)
  assert Tool.static(1) == 2 and Tool.make().features == 5
  # functools.wraps keeps the identity of the user function
  assert Tool.encode.__name__ == 'encode' and Tool.encode.__qualname__.endswith('Tool.encode')

  class Sub(Tool):
    pass

  # inherited methods are not wrapped a second time
  assert Sub.encode is Tool.encode


def test_nowrap_method_runs_on_unbound_module_without_setup():
  t = Tool(3)
  assert t.helper(2) == 6
  assert Tool.__dict__['helper'].nowrap is True


def test_wrapped_method_runs_lazy_setup_and_pushes_module():
  variables = Tool().init(KEY, jnp.ones((1, 3)))
  y = Tool().apply(variables, jnp.ones((1, 3)), method=Tool.encode)
  assert y.shape == (1, 2)
  assert list(variables['params']) == ['dense']


def test_error_note_names_path_and_method():
  class Outer(nn.Module):
    def setup(self):
      self.tool = Tool()

    def __call__(self, x):
      self.tool.encode(x)
      return self.tool.fail(x)

  with pytest.raises(KeyError) as info:
    Outer().init(KEY, jnp.ones((1, 3)))
  assert type(info.value) is KeyError  # the type is kept
  notes = [n for n in info.value.__notes__ if n.startswith('in ')]
  assert notes == ['in /tool (Tool.fail)']  # innermost only, once


def test_error_note_in_setup_and_nested_compact():
  class BadSetup(nn.Module):
    def setup(self):
      raise ValueError('in setup')

    def __call__(self, x):
      return x

  class Parent(nn.Module):
    @nn.compact
    def __call__(self, x):
      return BadSetup(name='child')(x)

  with pytest.raises(ValueError, match='in setup') as info:
    Parent().init(KEY, jnp.ones(1))
  assert [n for n in info.value.__notes__ if n.startswith('in ')] == ['in /child (BadSetup.setup)']


def test_unbound_call_gets_no_note():
  with pytest.raises(KeyError) as info:
    Tool().fail(1)
  assert not [n for n in getattr(info.value, '__notes__', []) if n.startswith('in /')]


def test_wrapped_function_called_with_non_module_passes_through():
  class Odd(nn.Module):
    def method(self, x):
      return ('called', x)

  assert Odd.method('not-a-module', 3) == ('called', 3)


def test_properties_are_wrapped_to_report_attribute_errors():
  t = Tool(4)
  assert t.doubled == 8
  with pytest.raises(errors.DescriptorAttributeError) as info:
    t.broken
  assert isinstance(info.value.__cause__, AttributeError)
  with pytest.raises(AttributeError, match='no setter'):
    Tool.__dict__['doubled'].__set__(t, 3)


def test_abstract_properties_stay_abstract():
  class Abstract(nn.Module, abc.ABC):
    @property
    @abc.abstractmethod
    def size(self):
      ...

  assert Tool.__dict__['doubled'].__isabstractmethod__ is False
  assert Abstract.__dict__['size'].__isabstractmethod__ is True

  class Concrete(Abstract):
    @property
    def size(self):
      return 3

  assert Concrete().size == 3


def test_compact_method_rewinds_names_between_calls():
  names = []

  class Twice(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = nn.Dense(2)
      names.append(d.name)
      return d(x)

  class Caller(nn.Module):
    def setup(self):
      self.t = Twice()

    def __call__(self, x):
      return self.t(x) + self.t(x)

  v = Caller().init(KEY, jnp.ones((1, 2)))
  assert names == ['Dense_0', 'Dense_0']
  assert list(v['params']['t']) == ['Dense_0']


def test_descriptor_wrapper_helpers():
  from flaxen.linen import module as module_lib

  prop = property(lambda self: 1)
  wrapped = module_lib.create_descriptor_wrapper(prop)
  assert isinstance(wrapped, module_lib.DescriptorWrapper)
  assert module_lib.wrap_descriptor_once(wrapped) is wrapped
  once = module_lib.wrap_method_once(lambda self, x: x)
  assert module_lib.wrap_method_once(once) is once
