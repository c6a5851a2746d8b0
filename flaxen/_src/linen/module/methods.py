"""Wrapping of user-defined Module methods and descriptors.

Every method a subclass defines (except dataclass machinery, ``@nowrap``
methods, static and class methods) is wrapped once by ``wrap_method_once``. A call
of a wrapped method on a Module instance goes through ``call_wrapped_method``:

1. ``setup`` on an unbound module raises ``CallSetupUnboundModuleError``; any
   other method first runs the lazy setup (``setup.try_setup``);
2. a ``@compact`` method on an unbound module raises
   ``CallCompactUnboundModuleError``; otherwise submodule/variable creation is
   allowed for its duration;
3. the module is pushed on the module stack (it becomes the default parent);
4. the method runs, through interceptors and ``jax.named_scope`` when active;
5. an exception from the method gets a note naming the module path and method
   (once: at the innermost module), keeping its type and traceback;
6. after a compact method the scope is rewound (names can be reused by the next
   call; RNG counters continue) and the per-call state is reset.

Properties and other descriptors are wrapped so that an ``AttributeError``
raised inside them becomes ``DescriptorAttributeError`` (otherwise Python would
silently fall back to ``__getattr__`` with a misleading message).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol

import jax

from flaxen._src import errors
from flaxen._src.linen.module import context, interceptors, named_call
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.base import ModuleBase
from flaxen._src.linen.module.named_call import method_name
from flaxen._src.linen.module.setup import try_setup
from flaxen._src.linen.module.state import SetupState
from flaxen._src.public import set_module

_NEVER_WRAP = frozenset((
  '__eq__', '__repr__', '__init__', '__hash__', '__post_init__', '__getattr__',
  '__getattribute__', '__setattr__', '__delattr__', '__init_subclass__', '__reduce__',
  '__reduce_ex__', '__getstate__', '__setstate__', '__class_getitem__', '__copy__',
  '__deepcopy__',
))
_NOTED = '_flaxen_module_noted'
_MODULES = context.MODULES
_INTERCEPTORS = context.INTERCEPTORS


def _add_note(exc: BaseException, module: Any, fn_name: str) -> None:
  if getattr(exc, _NOTED, False):
    return
  scope = module.scope
  if scope is None:
    return
  try:
    setattr(exc, _NOTED, True)
  except Exception:  # pragma: no cover - exotic exception types
    return
  note = f'in {scope.path_text} ({type(module).__name__}.{fn_name})'
  if hasattr(exc, 'add_note'):
    exc.add_note(note)


def call_wrapped_method(module: Any, fun: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
  """Runs ``fun(module, *args, **kwargs)`` with the Module state machinery (module docstring)."""
  state = module._state
  is_compact = getattr(fun, 'compact', False)
  fn_name = getattr(fun, '__name__', None) or method_name(fun)
  is_setup = fn_name == 'setup'
  is_recurrent = False
  if is_setup:
    if module.scope is None:
      raise errors.CallSetupUnboundModuleError()
    is_recurrent = state.enter_setup()
  elif state.setup_called is not SetupState.DONE:
    try_setup(module)
  if is_compact:
    if module.scope is None:
      raise errors.CallCompactUnboundModuleError()
    is_recurrent = state.enter_compact()
  token = _MODULES.set((module, _MODULES.get()))  # context.push_module, inlined
  try:
    if _INTERCEPTORS.get():
      run = functools.partial(interceptors.run_interceptors, fun, module, *args, **kwargs)
    else:
      run = functools.partial(fun, module, *args, **kwargs)
    if named_call.enabled() and module.scope is not None:
      with jax.named_scope(named_call.label(module, fn_name)):
        return run()
    return run()
  except Exception as e:
    _add_note(e, module, fn_name)
    raise
  finally:
    _MODULES.reset(token)
    if is_compact:
      state_lib.set_scope(module, module.scope.rewound())
    if (is_compact or is_setup) and not is_recurrent:
      state.reset()


@set_module('flaxen.linen.module')
def wrap_method_once(fun: Callable[..., Any]) -> Callable[..., Any]:
  """Wraps ``fun`` (once) so calls on a Module instance go through ``call_wrapped_method``."""
  if getattr(fun, 'method_handler_wrapped', False):
    return fun

  @functools.wraps(fun)
  def wrapped_module_method(*args, **kwargs):
    if args and isinstance(args[0], ModuleBase):
      return call_wrapped_method(args[0], fun, args[1:], kwargs)
    return fun(*args, **kwargs)

  if not hasattr(fun, '__name__'):  # e.g. a functools.partial of a method
    wrapped_module_method.__name__ = method_name(fun)
  wrapped_module_method.method_handler_wrapped = True  # type: ignore[attr-defined]
  return wrapped_module_method


@set_module('flaxen.linen.module')
class Descriptor(Protocol):
  """What ``DescriptorWrapper`` wraps: an object with (some of) the descriptor methods."""

  __isabstractmethod__: bool

  def __get__(self, obj: Any, objtype: Any = None) -> Any: ...

  def __set__(self, obj: Any, value: Any) -> None: ...

  def __delete__(self, obj: Any) -> None: ...

  def __set_name__(self, owner: Any, name: str) -> None: ...


@set_module('flaxen.linen.module')
class DescriptorWrapper:
  """Wraps a descriptor: ``AttributeError`` in its getter becomes ``DescriptorAttributeError``."""

  def __init__(self, wrapped: Any):
    self.wrapped = wrapped
    if hasattr(wrapped, '__isabstractmethod__'):
      self.__isabstractmethod__ = wrapped.__isabstractmethod__

  def __get__(self, obj, objtype=None):
    try:
      return self.wrapped.__get__(obj, objtype)
    except AttributeError as e:
      raise errors.DescriptorAttributeError() from e

  def __set__(self, obj, value):
    if not hasattr(self.wrapped, '__set__'):
      raise AttributeError(f"can't set attribute of {type(obj).__name__}")
    self.wrapped.__set__(obj, value)

  def __set_name__(self, owner, name):
    if hasattr(self.wrapped, '__set_name__'):
      self.wrapped.__set_name__(owner, name)

  def __getattr__(self, name):
    if 'wrapped' not in vars(self):
      raise AttributeError(name)
    return getattr(self.wrapped, name)


@set_module('flaxen.linen.module')
def create_descriptor_wrapper(descriptor: Any) -> DescriptorWrapper:
  """Wraps ``descriptor`` (see ``DescriptorWrapper``)."""
  return DescriptorWrapper(descriptor)


@set_module('flaxen.linen.module')
def wrap_descriptor_once(descriptor: Any) -> DescriptorWrapper:
  """Wraps ``descriptor`` unless it already is wrapped."""
  if isinstance(descriptor, DescriptorWrapper):
    return descriptor
  return create_descriptor_wrapper(descriptor)




def wrap_module_attributes(cls: type[ModuleBase]) -> None:
  """Wraps the methods and descriptors that ``cls`` itself defines (see module docstring)."""
  exclude = set(cls._flaxen_all_fields) | _NEVER_WRAP
  for key, attr in list(cls.__dict__.items()):
    if key in exclude:
      continue
    if isinstance(attr, staticmethod | classmethod) or inspect.isclass(attr):
      continue
    if callable(attr):
      if getattr(attr, 'nowrap', False) or isinstance(attr, ModuleBase):
        continue
      setattr(cls, key, wrap_method_once(attr))
    elif (
      hasattr(attr, '__get__') or hasattr(attr, '__set__') or hasattr(attr, '__delete__')
    ) and key not in ('parent', '__dict__', '__weakref__'):
      if getattr(attr, 'nowrap', False) or isinstance(attr, DescriptorWrapper):
        continue
      setattr(cls, key, DescriptorWrapper(attr))
