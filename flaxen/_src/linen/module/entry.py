"""Entry points: ``init``/``init_with_output``/``apply``/``bind``/``lazy_init``/``unbind``/``clone``.

Each entry clones the (unbound) module onto a fresh root ``Scope`` -- a *deep*
clone, so submodules passed in as fields are fresh too (sharing between them
is kept through a per-call cache keyed on the original's ``_id``) -- runs the
chosen method on the clone and drops the clone.

``method`` may be ``None`` (``__call__``), a method name, a bound or unbound
method, or any function whose first argument is the module. ``rngs`` may be a
key (the ``params`` stream) or a dict of keys. ``capture_intermediates``
(``True`` or ``fn(module, method_name) -> bool``) adds ``intermediates`` to the
mutable collections and stores method outputs there (``interceptors.py``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src import errors
from flaxen._src.core import entry as core_entry
from flaxen._src.core.filters import DenyList, Filter, union_filters
from flaxen._src.core.rng import is_valid_rng
from flaxen._src.linen.module import interceptors
from flaxen._src.linen.module.base import ModuleBase, missing_attribute_error
from flaxen._src.linen.module.naming import may_hold_modules
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

_ARITY_OK: dict[Any, bool] = {}


def module_checks(module: Any) -> None:
  """Raises unless ``module`` is a properly constructed Module instance."""
  if not isinstance(module, ModuleBase):
    raise errors.InvalidInstanceModuleError()
  if '_id' not in module.__dict__:
    raise errors.IncorrectPostInitOverrideError()


def _map_modules(fn: Callable[[Any], Any], x: Any) -> Any:
  if isinstance(x, ModuleBase):
    return fn(x)
  if isinstance(x, list | tuple):
    new = [_map_modules(fn, v) for v in x]
    if all(a is b for a, b in zip(new, x)):
      return x
    return type(x)(*new) if hasattr(x, '_fields') else type(x)(new)
  if isinstance(x, dict | FrozenDict):
    new_d = {k: _map_modules(fn, v) for k, v in x.items()}
    if all(new_d[k] is v for k, v in x.items()):
      return x
    return type(x)(new_d)
  return x


def clone(module: Any, parent: Any, deep: Any, reset_names: bool, updates: dict[str, Any]) -> Any:
  """See ``Module.clone``; ``deep`` is ``False``, ``True`` or a shared clone cache."""
  d = module.__dict__
  attrs = {k: d[k] for k in type(module)._flaxen_field_names}
  attrs['name'] = d['name']
  attrs['parent'] = parent
  attrs.update(updates)
  if deep is not False:
    cache = {} if deep is True else deep

    def clone_fn(m: Any) -> Any:
      key = m.__dict__.get('_id')
      if key is None:
        return m
      got = cache.get(key)
      if got is None:
        extra = {'name': None} if reset_names else {}
        got = cache[key] = clone(m, None, cache, reset_names, extra)
      return got

    for k, v in attrs.items():
      if k != 'parent' and may_hold_modules(v):
        attrs[k] = _map_modules(clone_fn, v)
  return type(module)(**attrs)


def _unbound_fn(method: Any) -> Callable[..., Any]:
  if inspect.ismethod(method) and isinstance(method.__self__, ModuleBase):
    method = method.__func__
  ok = _ARITY_OK.get(method) if _hashable(method) else None
  if ok is None:
    ok = callable(method) and _has_positional(method)
    if _hashable(method):
      _ARITY_OK[method] = ok
  if not ok:
    raise errors.ApplyModuleInvalidMethodError(method)
  return method


def _hashable(x: Any) -> bool:
  try:
    hash(x)
  except TypeError:
    return False
  return True


def _has_positional(fn: Any) -> bool:
  try:
    return len(inspect.signature(fn).parameters) >= 1
  except (TypeError, ValueError):
    return False


def resolve_method(module: Any, method: Any) -> Callable[..., Any]:
  """The function to call as ``fn(bound_module, *args)`` for ``method`` (module docstring)."""
  if method is None:
    method = _class_attr(type(module), '__call__')
    if method is None:
      raise missing_attribute_error(module, '__call__')
  elif isinstance(method, str):
    name = method
    attr = _class_attr(type(module), name)
    if isinstance(attr, staticmethod | classmethod):
      attr = getattr(type(module), name)
    if attr is None:  # e.g. a submodule defined in setup
      def method(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    elif not callable(attr):
      raise TypeError(f"'{type(module).__name__}.{name}' must be a callable, got {type(attr)}.")
    else:
      method = attr
  return _unbound_fn(method)


def _class_attr(cls: type, name: str) -> Any:
  for klass in cls.__mro__:
    if name in klass.__dict__:
      return klass.__dict__[name]
  return None


def _scope_fn(fn: Callable[..., Any], module: Any, capture: Any) -> Callable[..., Any]:
  @functools.wraps(fn)
  def scope_fn(scope, *args, **kwargs):
    with interceptors.capturing(capture):
      return fn(module.clone(parent=scope, _deep_clone=True), *args, **kwargs)

  return scope_fn


def _capture_mutable(mutable: Filter, capture: Any) -> Filter:
  return union_filters(mutable, 'intermediates') if capture else mutable


def _check_rngs(module: Any, rngs: Any) -> Any:
  if rngs is None or isinstance(rngs, Mapping):
    return rngs
  if not is_valid_rng(rngs):
    raise errors.InvalidRngError(
      f'RNGs should be of shape (2,) or PRNGKey in Module {type(module).__name__}, '
      f'but rngs are: {rngs}'
    )
  return {'params': rngs}


@set_module('flaxen.linen')
def apply(fn: Callable[..., Any], module: Any, mutable: Filter = False,
          capture_intermediates: bool | Callable[[Any, str], bool] = False) -> Callable[..., Any]:
  """Functionalizes ``fn(module, *args)``: returns ``(variables, *args, rngs=None, **kw) -> out``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> m = nn.Dense(2)
    >>> v = m.init(jax.random.key(0), jnp.ones((1, 3)))
    >>> nn.apply(lambda mdl, x: mdl(x) * 2, m)(v, jnp.ones((1, 3))).shape
    (1, 2)
  """
  return core_entry.apply(
    _scope_fn(fn, module, capture_intermediates),
    mutable=_capture_mutable(mutable, capture_intermediates),
  )


@set_module('flaxen.linen')
def init_with_output(fn: Callable[..., Any], module: Any,
                     mutable: Filter = DenyList('intermediates'),
                     capture_intermediates: bool | Callable[[Any, str], bool] = False
                     ) -> Callable[..., Any]:
  """Functionalizes ``fn(module, *args)`` for init: ``(rngs, *args) -> (out, variables)``."""
  return core_entry.init(
    _scope_fn(fn, module, capture_intermediates),
    mutable=_capture_mutable(mutable, capture_intermediates),
  )


@set_module('flaxen.linen')
def init(fn: Callable[..., Any], module: Any, mutable: Filter = DenyList('intermediates'),
         capture_intermediates: bool | Callable[[Any, str], bool] = False) -> Callable[..., Any]:
  """Functionalizes ``fn(module, *args)`` for init: ``(rngs, *args) -> variables``."""
  init_fn = init_with_output(fn, module, mutable, capture_intermediates)

  @functools.wraps(init_fn)
  def wrapper(*args, **kwargs):
    return init_fn(*args, **kwargs)[1]

  return wrapper


def apply_method(module, variables, args, kwargs, rngs, method, mutable, capture):
  rngs = _check_rngs(module, rngs)
  fn = resolve_method(module, method)
  return apply(fn, module, mutable=mutable, capture_intermediates=capture)(
    variables, *args, rngs=rngs, **kwargs
  )


def init_with_output_method(module, rngs, args, kwargs, method, mutable, capture):
  if not isinstance(rngs, Mapping):
    rngs = _check_rngs(module, rngs)
  fn = resolve_method(module, method)
  return init_with_output(fn, module, mutable=mutable, capture_intermediates=capture)(
    rngs, *args, **kwargs
  )


def lazy_init_method(module, rngs, args, kwargs, method, mutable):
  def lazy_wrapper(rngs, *args, **kwargs):
    return init_with_output_method(module, rngs, args, kwargs, method, mutable, False)[1]

  from flaxen._src.core.partial_eval import lazy_init

  return lazy_init(lazy_wrapper)(rngs, *args, **kwargs)


def bind(module: Any, variables: Mapping[str, Any], rngs: Any, mutable: Filter) -> Any:
  """A clone of ``module`` bound to a long-lived root scope."""
  rngs = _check_rngs(module, rngs)
  scope = core_entry.bind(variables, rngs=rngs, mutable=mutable)
  return module.clone(parent=scope, _deep_clone=True)


def unbind(module: Any) -> tuple[Any, Any]:
  """``(unbound clone with names reset, this module's variables)``."""
  if module.scope is None:
    raise errors.CallUnbindOnUnboundModuleError()
  variables = module.variables
  return module.clone(_deep_clone=True, _reset_names=True, name=None), variables
