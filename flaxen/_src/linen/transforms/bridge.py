"""The one bridge from Linen Modules to ``flaxen.core.lift``.

A core lifted transform maps a function of *scopes*; a Linen transform maps a
*method of a Module*. The bridge turns one into the other in three steps.

1. **Plan** (``ScopePlan``, outside the transform). Number the scopes to lift:
   every bound Module or Variable passed as an argument (in argument order; an
   argument module's own scope before the scopes of its fields), then the bound
   Modules and Variables held in the module's dataclass fields (depth first,
   after a shallow setup adopts them), then the module itself. An object met
   twice -- a submodule both held in a field and passed as an argument (aliasing
   under ``compact``), or shared by two fields -- gets one number, so it is
   lifted once. Arguments that are Modules/Variables are replaced by
   ``_Placeholder`` pytree nodes without leaves, so JAX carries them as static
   structure.
2. **Rebind** (inside the transform). Clone each numbered object onto the
   inner scope with its number; clones are memoised by the original object, so
   aliases stay one module inside too. The clone of the module starts from an
   export of the module's state (``setup`` re-runs lazily on it when it had run
   outside); its naming state is taken back afterwards, so auto names continue
   across the boundary.
3. **Check** the result: a transformed method may not return Modules or
   Variables (``TransformedMethodReturnValueError``).

The front ends keep the reference's names and signatures: ``lift_transform``
dispatches to ``module_class_lift_transform`` (a subclass ``<Transform><Class>``
whose chosen methods are lifted) or ``decorator_lift_transform`` (a function
whose first argument is a module, or a method decorator);
``lift_direct_transform`` calls the lifted functions right away (``cond``,
``vjp``, ...). The transform is called as ``transform(*core_fns, *trafo_args,
**trafo_kwargs)`` and must return ``f(scopes, *args, **kwargs)``; ``scopes`` is
the list of numbered scopes, or the only one for ``multi_scope=False``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, Union

import jax

from flaxen._src import errors
from flaxen._src.core.scope import Scope
from flaxen._src.core.variables import Variable
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.methods import wrap_method_once
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.module.named_call import method_name
from flaxen._src.linen.transforms.fingerprint import fingerprint
from flaxen._src.public import set_module

TransformTarget = Union[type[Module], Callable[..., Any]]  # noqa: UP007 - the reference's alias
Target = TypeVar('Target', bound=TransformTarget)
ModuleT = TypeVar('ModuleT', bound=Module)
C = TypeVar('C')

_NOT_SINGLE_SCOPE = (
  'This transform does not yet support Modules that include other Modules passed as arguments.'
)


def _bound(x: Any) -> bool:
  return isinstance(x, Module | Variable) and isinstance(x.scope, Scope)


def _is_module_or_variable(x: Any) -> bool:
  return isinstance(x, Module | Variable)


def _fields(module: Module) -> dict[str, Any]:
  d = module.__dict__
  return {k: d[k] for k in type(module)._flaxen_field_names}


class _Placeholder:
  """An argument Module/Variable while it crosses the transform: number ``index``, no leaves.

  Two placeholders are equal when they stand for interchangeable objects (same
  number, kind and configuration), so ``nn.jit`` reuses a trace for an argument
  module rebuilt with the same fields. ``release()`` drops the object itself
  (the signature stays), so a trace cache keeps nothing alive.
  """

  __slots__ = ('index', 'obj', '_signature')
  _signature: tuple[Any, ...] | None  # computed on the first call of signature()

  def __init__(self, index: int, obj: Any):
    self.index, self.obj, self._signature = index, obj, None

  def signature(self) -> Any:
    if self._signature is None:
      x = self.obj
      if isinstance(x, Variable):
        self._signature = ('variable', self.index, x.collection, x.name, x.unbox)
      else:
        self._signature = ('module', self.index, fingerprint(x))
    return self._signature

  def release(self) -> None:
    self.signature()
    self.obj = None

  def __eq__(self, other: Any) -> bool:
    return isinstance(other, _Placeholder) and self.signature() == other.signature()

  def __hash__(self) -> int:
    return hash(self.signature())


jax.tree_util.register_pytree_node(_Placeholder, lambda p: ((), p), lambda p, _: p)


def _is_placeholder(x: Any) -> bool:
  return isinstance(x, _Placeholder)


class ScopePlan:
  """The numbered scopes of one lifted call, and the arguments with placeholders.

  Attributes:
    scopes: the scopes to lift, in numbering order (module docstring).
    args: the positional arguments, argument Modules/Variables replaced.
    kwargs: the keyword arguments, likewise.
  """

  __slots__ = ('scopes', 'args', 'kwargs', '_number', '_held', '_placeholders')

  def __init__(self, module: Module, args: tuple, kwargs: dict, setup: bool = True):
    self.scopes: list[Scope] = []
    self._number: dict[int, int] = {}  # id(object) -> number
    self._held: list[Any] = []  # keeps the numbered objects (and so their ids) alive
    self._placeholders: list[_Placeholder] = []
    self.args, self.kwargs = jax.tree_util.tree_map(
      functools.partial(self._argument, setup), (tuple(args), dict(kwargs or {})),
      is_leaf=lambda x: _is_module_or_variable(x) or _is_placeholder(x),
    )
    self._module(module, setup)

  def _take(self, obj: Any) -> tuple[int, bool]:
    key = id(obj)
    number = self._number.get(key)
    if number is not None:
      return number, False
    number = self._number[key] = len(self.scopes)
    self.scopes.append(obj.scope)
    self._held.append(obj)
    return number, True

  def _argument(self, setup: bool, x: Any) -> Any:
    if _is_placeholder(x):  # re-planning placeholder arguments
      x = x.obj
    if not _bound(x):
      return x
    if isinstance(x, Module) and setup:
      x._try_setup(shallow=True)
    number, new = self._take(x)
    if new and isinstance(x, Module):
      self._field_objects(x, setup)
    placeholder = _Placeholder(number, x)
    self._placeholders.append(placeholder)
    return placeholder

  def _field_objects(self, module: Module, setup: bool) -> None:
    for value in _fields(module).values():
      for leaf in jax.tree_util.tree_leaves(value, is_leaf=_is_module_or_variable):
        if isinstance(leaf, Module) and _bound(leaf):
          self._module(leaf, setup)
        elif isinstance(leaf, Variable) and _bound(leaf):
          self._take(leaf)

  def _module(self, module: Module, setup: bool) -> None:
    if id(module) in self._number:
      return
    if setup:
      module._try_setup(shallow=True)
    self._field_objects(module, setup)
    self._take(module)

  def rebind(self, module: Module, scopes: Sequence[Scope], args: tuple, kwargs: dict,
             as_class: type | None = None) -> tuple[Module, tuple, dict]:
    """Clones ``module`` and the placeholders in ``args``/``kwargs`` onto ``scopes``."""
    rebinder = _Rebinder(self._number, scopes)
    new_module = rebinder.clone_of(module, as_class)
    swap = rebinder.swap
    new_args, new_kwargs = jax.tree_util.tree_map(swap, (args, kwargs), is_leaf=_is_placeholder)
    return new_module, new_args, new_kwargs

  def release(self) -> None:
    """Forgets the objects (placeholders keep their signatures for trace caches)."""
    for p in self._placeholders:
      p.release()
    self._held = []


class _Rebinder:
  """Clones numbered objects onto their inner scopes, once per object (``ScopePlan.rebind``).

  A class rather than two nested functions calling each other: such closures form a
  reference cycle that would keep the inner scopes, and the traced values in them,
  alive after the transform until the next garbage collection (a leaked tracer for
  ``jax.checking_leaks``).
  """

  def __init__(self, number: dict[int, int], scopes: Sequence[Scope]):
    self.number = number
    self.scopes = scopes
    self.clones: dict[int, Any] = {}

  def clone_of(self, obj: Any, cls: type | None = None) -> Any:
    got = self.clones.get(id(obj))
    if got is None:
      scope = self.scopes[self.number[id(obj)]]
      if isinstance(obj, Variable):
        got = Variable(scope, obj.collection, obj.name, unbox=obj.unbox)
      else:
        swap = self.swap
        updates = {k: jax.tree_util.tree_map(swap, v, is_leaf=_is_module_or_variable)
                   for k, v in _fields(obj).items()}
        if cls is None:
          got = obj.clone(parent=scope, **updates)
        else:
          got = cls(parent=scope, name=obj.name, **updates)
      self.clones[id(obj)] = got
    return got

  def swap(self, x: Any) -> Any:
    if _is_placeholder(x):
      return self.clone_of(x.obj)
    return self.clone_of(x) if _bound(x) else x


@set_module('flaxen.linen.transforms')
def get_module_scopes(module: Module, args: Any = None, kwargs: Any = None):
  """The scopes a transform of ``module`` lifts: ``(scopes, args, kwargs)``.

  Argument Modules/Variables are replaced by placeholders (see module docstring).
  An unbound module contributes ``None`` (as in the reference), which a core
  transform lifts as an empty tree: its methods then run as plain JAX transforms.
  """
  plan = ScopePlan(module, tuple(args or ()), dict(kwargs or {}))
  return plan.scopes, plan.args, plan.kwargs


@set_module('flaxen.linen.transforms')
def set_module_scopes(module: Module, args: Any, kwargs: Any, scopes: Sequence[Scope]):
  """``(clone, args, kwargs)``: ``module`` and the placeholders rebound to ``scopes``.

  ``scopes`` correspond one to one to the scopes ``get_module_scopes`` returned.
  """
  plan = ScopePlan(module, tuple(args or ()), dict(kwargs or {}), setup=False)
  return plan.rebind(module, scopes, plan.args, plan.kwargs)


def check_return_value(value: Any, name: str | None) -> None:
  """Raises ``TransformedMethodReturnValueError`` if ``value`` holds Modules or Variables."""
  for leaf in jax.tree_util.tree_leaves(value, is_leaf=_is_module_or_variable):
    if isinstance(leaf, Module | Variable):
      raise errors.TransformedMethodReturnValueError(name)


def run_on_clone(module: Module, plan: ScopePlan, state: Any, fn: Callable[..., Any],
                 scopes: Sequence[Scope], args: tuple, kwargs: dict,
                 as_class: type | None = None) -> tuple[Any, Any]:
  """Runs ``fn`` on ``module`` rebound to ``scopes`` (steps 2 and 3 of the module docstring).

  Returns:
    ``(output, the clone's final state)``.
  """
  clone, args, kwargs = plan.rebind(module, scopes, args, kwargs, as_class)
  state_lib.set_state(clone, state.export())
  out = fn(clone, *args, **kwargs)
  module._state.reimport(clone._state)  # auto names continue outside
  check_return_value(out, method_name(fn))
  return out, clone._state


def _core_fn(module, plan, state, fn, multi_scope, as_class=None):
  def core_fn(scopes, *args, **kwargs):
    scope_list = scopes if multi_scope else (scopes,)
    return run_on_clone(module, plan, state, fn, scope_list, args, kwargs, as_class)[0]

  return core_fn


def _lifted_call(transform, fns, module, args, kwargs, multi_scope, as_class=None):
  if not isinstance(module, Module):
    raise TypeError(
      f'{method_name(fns[0])} must be called with a Module instance as its first argument, '
      f'got {type(module).__name__}.'
    )
  if not _bound(module) and any(getattr(f, 'compact', False) for f in fns):
    # an unbound module's other methods run as plain JAX transforms, as in the reference
    raise errors.CallCompactUnboundModuleError()
  state = module._state.export()
  plan = ScopePlan(module, args, kwargs)
  try:
    core_fns = [_core_fn(module, plan, state, f, multi_scope, as_class) for f in fns]
    scopes: Any = plan.scopes
    if not multi_scope:
      if len(scopes) != 1:
        raise NotImplementedError(
          f'{_NOT_SINGLE_SCOPE} ({type(module).__name__} lifts {len(scopes)} scopes: it holds '
          'or is given other bound Modules or Variables; nn.vjp takes multi_scope=True.)'
        )
      scopes = scopes[0]
    return transform(*core_fns)(scopes, *plan.args, **plan.kwargs)
  finally:
    plan.release()


@set_module('flaxen.linen.transforms')
def decorator_lift_transform(transform: Callable[..., Any], class_fn: Any, *trafo_args: Any,
                             multi_scope: bool = True, **trafo_kwargs: Any) -> Callable[..., Any]:
  """Turns ``class_fn(module, *args)`` (or a tuple of them) into a lifted function.

  Usable as a method decorator: the result is marked as already wrapped, so the
  class does not wrap it again (the call of ``class_fn`` on the clone does the
  Module bookkeeping).
  """
  fns = tuple(class_fn) if isinstance(class_fn, tuple | list) else (class_fn,)
  prewrapped = tuple(wrap_method_once(f) for f in fns)

  def apply_transform(*core_fns):
    return transform(*core_fns, *trafo_args, **trafo_kwargs)

  @functools.wraps(prewrapped[0])
  def wrapped(self, *args, **kwargs):
    return _lifted_call(apply_transform, prewrapped, self, args, kwargs, multi_scope)

  wrapped.method_handler_wrapped = True  # type: ignore[attr-defined]
  return wrapped


def _unbound_fn(f: Callable[..., Any]) -> Callable[..., Any]:
  if inspect.ismethod(f) and isinstance(f.__self__, Module):
    return f.__func__
  return f


@set_module('flaxen.linen.transforms')
def lift_direct_transform(transform: Callable[..., Any], targets: tuple, mdl: Module,
                          *args: Any, multi_scope: bool = True, **kwargs: Any) -> Any:
  """Calls ``transform(*core_fns, scopes, *args, **kwargs)`` now (``cond``, ``vjp``, ...).

  Raises:
    ValueError: a target is a Module class or is not callable.
  """
  for target in targets:
    if is_module_class(target):
      raise ValueError(
        f'The {getattr(transform, "__name__", "lifted")} transform can only be applied on a '
        'Module method. That is function that takes a Module instance as its first arg. '
        '(Wrap the class in a function: `lambda mdl, *args: mdl(*args)`.)'
      )
    if not callable(target):
      raise ValueError(f'transform target must be callable (got {target!r}).')
  fns = tuple(_unbound_fn(t) for t in targets)

  def bind_now(*core_fns):
    return functools.partial(transform, *core_fns)

  lifted = decorator_lift_transform(bind_now, fns, multi_scope=multi_scope)
  return lifted(mdl, *args, **kwargs)


@set_module('flaxen.linen.transforms')
@contextlib.contextmanager
def fork_rngs(module: Module) -> Iterator[None]:
  """Within the block, ``module``'s streams are fresh keys drawn from them (``nn.jit`` does this).

  Nothing happens for an unbound module.
  """
  if module.scope is None:
    yield
    return
  with module.scope.forked_rngs():
    yield


def is_module_class(x: Any) -> bool:
  """Whether ``x`` is a Module subclass or a ``functools.partial`` of one."""
  while isinstance(x, functools.partial):
    x = x.func
  return inspect.isclass(x) and issubclass(x, Module)


def _per_method(methods: Any, trafo_args: tuple, trafo_kwargs: dict) -> dict:
  if methods is None:
    return {'__call__': (trafo_args, trafo_kwargs)}
  if isinstance(methods, list | tuple):
    return dict.fromkeys(methods, (trafo_args, trafo_kwargs))
  if isinstance(methods, dict):
    return {name: ((), kw) for name, kw in methods.items()}
  raise ValueError('transform methods argument must be None, tuple, list, or dict.')


def _lift_class_method(transform, base, fn, trafo_args, trafo_kwargs):
  def apply_transform(core_fn):
    return transform(core_fn, *trafo_args, **trafo_kwargs)

  @functools.wraps(fn)
  def wrapped(self, *args, **kwargs):
    return _lifted_call(apply_transform, (fn,), self, args, kwargs, True, as_class=base)

  return wrapped


@set_module('flaxen.linen.transforms')
def module_class_lift_transform(transform: Callable[..., Any], module_class: Any,
                                *trafo_args: Any, methods: Any = None,
                                lift_fn: Callable[..., Any] | None = None,
                                **trafo_kwargs: Any) -> Any:
  """A subclass ``<Transform><Class>`` of ``module_class`` with the chosen methods lifted.

  Inside, the module runs as an instance of ``module_class`` itself. ``lift_fn(method,
  base_class, *args, **kwargs)`` replaces the per-call lifting (``jit`` builds its
  compiled function once per method). A ``functools.partial`` of a class gives a
  partial of the transformed class.
  """
  partial_args: tuple = ()
  partial_kwargs: dict = {}
  base = module_class
  if isinstance(base, functools.partial):
    partial_args, partial_kwargs, base = base.args, base.keywords, base.func
  lifted = {}
  for name, (t_args, t_kwargs) in _per_method(methods, trafo_args, trafo_kwargs).items():
    fn = getattr(base, name)
    if lift_fn is not None:
      lifted[name] = lift_fn(fn, base, *t_args, **t_kwargs)
    else:
      lifted[name] = _lift_class_method(transform, base, fn, t_args, t_kwargs)
  prefix = transform.__name__.capitalize()
  new_cls: Any = type(f'{prefix}{base.__name__}', (base,), lifted)  # gains attributes below
  new_cls.__module__ = base.__module__
  new_cls.__qualname__ = f'{prefix}{base.__qualname__}'
  new_cls._flaxen_lifted_base = base  # tabulate reports (and measures) the untransformed class
  if partial_args or partial_kwargs or module_class is not base:
    return functools.partial(new_cls, *partial_args, **partial_kwargs)
  return new_cls


@set_module('flaxen.linen.transforms')
def lift_transform(transform: Callable[..., Any], target: Any, *trafo_args: Any,
                   methods: Any = None, **trafo_kwargs: Any) -> Any:
  """Applies the core ``transform`` to a Module class, or to a function of a module.

  Raises:
    TransformTargetError: ``target`` is a Module instance or not callable.
  """
  if is_module_class(target):
    return module_class_lift_transform(transform, target, *trafo_args, methods=methods,
                                       **trafo_kwargs)
  if callable(target) and not isinstance(target, Module):
    return decorator_lift_transform(transform, target, *trafo_args, **trafo_kwargs)
  raise errors.TransformTargetError(target)
