"""The one bridge from Linen Modules to ``flaxen.core.lift``.

Every Linen transform is a core lifted transform (a function of scopes) plus
this bridge, which turns "a method of a Module" into "a function of scopes":

* **gather** (``get_module_scopes``): the scopes to lift are the module's own
  scope, the scopes of submodules held in its dataclass fields (after a shallow
  setup adopts them), and the scopes of Modules/Variables passed as arguments
  (replaced by pytree placeholders with no leaves, so JAX transforms carry them
  as static structure);
* **rebind** (``set_module_scopes``): inside the transform, the module is cloned
  onto the inner scopes (fields first, then the module, in gathering order) and
  the placeholders become clones/Variables bound to their inner scopes;
* **state**: the clone starts from an export of the module's state (``setup``
  re-runs lazily on the clone when it already ran outside) and its naming
  state is re-imported afterwards, so auto names continue across the boundary.

Three front ends share it: ``lift_class`` (a transformed subclass named
``<Transform><Class>``), ``lift_method`` (a function whose first argument is a
module, or a method decorator) and ``lift_direct`` (``cond``/``vjp``/... that
call the functions right away). Transformed methods may not return Modules or
Variables (``TransformedMethodReturnValueError``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import jax

from flaxen._src import errors
from flaxen._src.core.scope import Scope
from flaxen._src.core.variables import Variable
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.methods import wrap_method
from flaxen._src.linen.module.module import Module


class _Placeholder:
  """Stands for the ``index``-th gathered scope's Module (``cls``/``attrs``) or Variable."""

  __slots__ = ('index', 'kind', 'payload')

  def __init__(self, index: int, kind: str, payload: Any):
    self.index, self.kind, self.payload = index, kind, payload

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, _Placeholder) and other.index == self.index

  def __hash__(self) -> int:
    return hash(('placeholder', self.index))


jax.tree_util.register_pytree_node(_Placeholder, lambda p: ((), p), lambda p, _: p)


def _is_module_or_var(x: Any) -> bool:
  return isinstance(x, Module | Variable)


def _is_bound(x: Any) -> bool:
  return isinstance(getattr(x, 'scope', None), Scope)


def _field_values(module: Module) -> dict[str, Any]:
  d = module.__dict__
  return {k: d[k] for k in type(module)._flaxen_field_names}


def get_module_scopes(module: Module, args: tuple = (), kwargs: dict | None = None):
  """Gathers the scopes to lift; returns ``(scopes, args, kwargs)`` with placeholders.

  Raises:
    CallCompactUnboundModuleError: ``module`` is not bound (called outside init/apply).
  """
  if not _is_bound(module):
    raise errors.CallCompactUnboundModuleError()
  scopes: list[Scope] = []

  def arg_scope(x):
    if isinstance(x, Variable) and isinstance(x.scope, Scope):
      scopes.append(x.scope)
      return _Placeholder(len(scopes) - 1, 'variable', (x.collection, x.name))
    if isinstance(x, Module) and _is_bound(x):
      x._try_setup(shallow=True)
      scopes.append(x.scope)
      return _Placeholder(len(scopes) - 1, 'module', x)
    return x

  new_args, new_kwargs = jax.tree_util.tree_map(
    arg_scope, (args, kwargs or {}), is_leaf=_is_module_or_var
  )

  def visit(m: Module) -> None:
    m._try_setup(shallow=True)
    for value in _field_values(m).values():
      for leaf in jax.tree_util.tree_leaves(value, is_leaf=_is_module_or_var):
        if isinstance(leaf, Module) and _is_bound(leaf):
          visit(leaf)
        elif isinstance(leaf, Variable) and isinstance(leaf.scope, Scope):
          scopes.append(leaf.scope)
    scopes.append(m.scope)

  visit(module)
  return scopes, new_args, new_kwargs


def set_module_scopes(module: Module, args: tuple, kwargs: dict, scopes: Sequence[Scope],
                      first: int | None = None):
  """Rebinds ``module`` (and placeholders in ``args``) to ``scopes`` (gathering order).

  ``first`` is the index of the module's own scopes (after those of the arguments);
  by default the number of placeholders found in ``args``/``kwargs``.
  """
  idx = count_placeholders((args, kwargs)) if first is None else first

  def rebind(m: Module) -> Module:
    nonlocal idx

    def inner(x):
      nonlocal idx
      if isinstance(x, Module) and _is_bound(x):
        return rebind(x)
      if isinstance(x, Variable) and isinstance(x.scope, Scope):
        v = Variable(scopes[idx], x.collection, x.name, unbox=x.unbox)
        idx += 1
        return v
      return x

    updates = {
      k: jax.tree_util.tree_map(inner, v, is_leaf=_is_module_or_var)
      for k, v in _field_values(m).items()
    }
    new = m.clone(parent=scopes[idx], **updates)
    idx += 1
    return new

  new_module = rebind(module)

  def fill(x):
    if not isinstance(x, _Placeholder):
      return x
    scope = scopes[x.index]
    if x.kind == 'variable':
      return Variable(scope, *x.payload)
    # A module passed as an argument is lifted through its own scope.
    return x.payload.clone(parent=scope)

  new_args, new_kwargs = jax.tree_util.tree_map(
    fill, (args, kwargs), is_leaf=lambda x: isinstance(x, _Placeholder)
  )
  return new_module, new_args, new_kwargs


def count_placeholders(tree: Any) -> int:
  leaves = jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, _Placeholder))
  found = {x.index for x in leaves if isinstance(x, _Placeholder)}
  return len(found)


def check_return_value(value: Any, name: str | None) -> None:
  """Raises ``TransformedMethodReturnValueError`` if ``value`` holds Modules or Variables."""
  for leaf in jax.tree_util.tree_leaves(value, is_leaf=_is_module_or_var):
    if isinstance(leaf, Module | Variable):
      raise errors.TransformedMethodReturnValueError(name)


def make_core_fn(module: Module, fn: Callable[..., Any], state: Any, multi_scope: bool = True,
                 first: int | None = None):
  """``core_fn(scopes, *args, **kwargs)``: runs ``fn`` on a clone of ``module`` bound to scopes."""
  name = getattr(fn, '__name__', None)

  def core_fn(scopes, *args, **kwargs):
    if not multi_scope:
      scopes = [scopes]
    cloned, args, kwargs = set_module_scopes(module, args, kwargs, scopes, first)
    state_lib.set_state(cloned, state.export())
    res = fn(cloned, *args, **kwargs)
    module._state.reimport(cloned._state)
    check_return_value(res, name)
    return res

  return core_fn


def run_lifted(transform: Callable[..., Any], fns: Sequence[Callable[..., Any]], module: Module,
               args: tuple, kwargs: dict, multi_scope: bool = True) -> Any:
  """Applies ``transform(*core_fns)`` to ``module``'s scopes and calls it with ``args``."""
  state = module._state.export()
  scopes, args, kwargs = get_module_scopes(module, args, kwargs)
  first = count_placeholders((args, kwargs))
  core_fns = [make_core_fn(module, f, state, multi_scope, first) for f in fns]
  if not multi_scope:
    if len(scopes) != 1:
      raise NotImplementedError(
        'This transform does not support modules that hold other bound modules or '
        f'Variables in their fields ({type(module).__name__}).'
      )
    scopes = scopes[0]
  return transform(*core_fns)(scopes, *args, **kwargs)


def _check_module(x: Any, what: str) -> None:
  if not isinstance(x, Module):
    raise TypeError(f'{what} must be called with a Module as first argument, got {type(x)}.')


def lift_method(transform: Callable[..., Any], fn: Callable[..., Any] | Sequence,
                multi_scope: bool = True) -> Callable[..., Any]:
  """Turns ``fn(module, *args)`` into a lifted ``wrapped(module, *args)``.

  Also usable as a method decorator: the result is marked as already wrapped, so
  the class does not wrap it again (the inner call of ``fn`` on the clone does the
  Module bookkeeping).
  """
  fns = tuple(fn) if isinstance(fn, tuple | list) else (fn,)
  prewrapped = [wrap_method(f) for f in fns]

  @functools.wraps(prewrapped[0])
  def wrapped(self, *args, **kwargs):
    _check_module(self, getattr(fns[0], '__name__', 'lifted function'))
    return run_lifted(transform, prewrapped, self, args, kwargs, multi_scope)

  wrapped.method_handler_wrapped = True  # type: ignore[attr-defined]
  return wrapped


def lift_direct(transform: Callable[..., Any], fns: Sequence[Callable[..., Any]], module: Any,
                args: tuple, kwargs: dict | None = None, multi_scope: bool = True) -> Any:
  """Runs ``transform(*core_fns)(scopes, *args)`` now (``cond``, ``vjp``, ...)."""
  for f in fns:
    if is_module_class(f):
      raise TypeError('This transform takes functions of a module, not Module classes.')
    if not callable(f):
      raise TypeError(f'Transform target must be callable, got {f!r}.')
  fns = tuple(_unbound(f) for f in fns)
  return lift_method(transform, fns, multi_scope)(module, *args, **(kwargs or {}))


def _unbound(f: Callable[..., Any]) -> Callable[..., Any]:
  if inspect.ismethod(f) and isinstance(f.__self__, Module):
    return f.__func__
  return f


def is_module_class(x: Any) -> bool:
  if isinstance(x, functools.partial):
    x = x.func
  return inspect.isclass(x) and issubclass(x, Module)


def _methods_args(methods: Any, trafo_args: tuple, trafo_kwargs: dict) -> dict:
  if methods is None:
    return {'__call__': (trafo_args, trafo_kwargs)}
  if isinstance(methods, list | tuple):
    return {m: (trafo_args, trafo_kwargs) for m in methods}
  if isinstance(methods, dict):
    return {k: ((), v) for k, v in methods.items()}
  raise ValueError('transform methods argument must be None, tuple, list, or dict.')


def lift_class(transform: Callable[..., Any] | None, name: str, cls: Any, *trafo_args: Any,
               methods: Any = None, lift_fn: Callable[..., Any] | None = None,
               **trafo_kwargs: Any) -> Any:
  """A subclass ``<Name><Class>`` of ``cls`` whose chosen methods are lifted by ``transform``.

  ``lift_fn(method, *args, **kwargs) -> wrapped method`` replaces the default
  per-call lifting (``jit`` builds its compiled function once per method).
  """
  partial_obj = cls if isinstance(cls, functools.partial) else None
  base = cls.func if partial_obj is not None else cls
  per_method = _methods_args(methods, trafo_args, trafo_kwargs)
  attrs = {}
  for method_name, (t_args, t_kwargs) in per_method.items():
    fn = getattr(base, method_name)
    if lift_fn is not None:
      attrs[method_name] = lift_fn(fn, *t_args, **t_kwargs)
    else:
      factory = functools.partial(_bind_trafo, transform, t_args, t_kwargs)
      attrs[method_name] = lift_method(factory, fn)
  new_cls = type(f'{name}{base.__name__}', (base,), attrs)
  new_cls.__module__ = base.__module__
  new_cls.__qualname__ = f'{name}{base.__qualname__}'
  if partial_obj is not None:
    return functools.partial(new_cls, *partial_obj.args, **partial_obj.keywords)
  return new_cls


def _bind_trafo(transform, t_args, t_kwargs, core_fn):
  return transform(core_fn, *t_args, **t_kwargs)


def lift_transform(transform: Callable[..., Any], name: str, target: Any, *trafo_args: Any,
                   methods: Any = None, **trafo_kwargs: Any) -> Any:
  """Dispatches on ``target``: a Module class, or a function whose first argument is a module.

  Raises:
    TransformTargetError: ``target`` is a Module instance or not callable.
  """
  if is_module_class(target):
    return lift_class(transform, name, target, *trafo_args, methods=methods, **trafo_kwargs)
  if callable(target) and not isinstance(target, Module):
    factory = functools.partial(_bind_trafo, transform, trafo_args, trafo_kwargs)
    return lift_method(factory, target)
  raise errors.TransformTargetError(target)
