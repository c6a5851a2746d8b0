"""``Module``: the base class of every Linen layer and model.

A subclass is a dataclass (``dataclass.py``) whose user methods are wrapped
(``methods.py``). An instance is *unbound* (only its fields) until ``init``,
``apply`` or ``bind`` clone it onto a ``Scope``; then ``setup`` runs lazily
(``setup.py``) and ``param``/``variable``/``make_rng``/``sow`` delegate to the
scope. Submodules are named and adopted by ``naming.py``; the entry points live
in ``entry.py``; the repr in ``repr.py``.

Invariants:
  * once attached (bound or given a parent), attribute assignment outside
    ``setup`` raises ``SetAttributeFrozenModuleError`` (dunder names excepted);
    in ``setup`` re-assigning a field raises ``SetAttributeInModuleSetupError``;
    a parentless top-level module is only initialized when cloned onto a scope;
  * ``parent`` is held weakly (``dataclass.ParentDescriptor``), so module trees
    have no reference cycles; bound modules refuse to be hashed;
  * a submodule constructed in a method is attached to the innermost running
    module (the module stack) unless ``parent=`` says otherwise;
  * per-instance state lives in ``_state`` (``ModuleState``); ``_id`` is a
    process-unique integer used to keep sharing when submodules are cloned;
    both, and every other instance attribute, are written only through
    ``state.py``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from typing_extensions import Self

from flaxen._src import errors, traceback_util
from flaxen._src.core.filters import DenyList, Filter
from flaxen._src.core.scope import Scope
from flaxen._src.core.variables import Variable
from flaxen._src.linen.module import context, entry, methods, naming
from flaxen._src.linen.module import dataclass as dataclass_lib
from flaxen._src.linen.module import repr as repr_lib
from flaxen._src.linen.module import sow as sow_lib
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.base import (
  UNSPECIFIED_PARENT,
  ModuleBase,
  _UnspecifiedParent,
  missing_attribute_error,
  module_field,
)
from flaxen._src.linen.module.compact import compact_name_scope_methods
from flaxen._src.linen.module.setup import try_setup
from flaxen._src.linen.module.state import UNINITIALIZED_STATE, SetupState
from flaxen._src.public import set_module


def _unbound(what: str) -> ValueError:
  return ValueError(f"Can't {what} on unbound modules")


@set_module('flaxen.linen')
class Module(ModuleBase):
  """Base class for all neural-network modules; subclasses are dataclasses.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Affine(nn.Module):
    ...   features: int
    ...   @nn.compact
    ...   def __call__(self, x):
    ...     w = self.param('w', nn.initializers.lecun_normal(), (x.shape[-1], self.features))
    ...     return x @ w
    >>> variables = Affine(2).init(jax.random.key(0), jnp.ones((1, 3)))
    >>> Affine(2).apply(variables, jnp.ones((1, 3))).shape
    (1, 2)
  """

  if typing.TYPE_CHECKING:  # the fields ``dataclass.py`` adds, for type checkers
    name: str | None = module_field(kw_only=True, default=None)
    # (as in the reference, the type includes the default's: resolved in __post_init__)
    parent: Module | Scope | _UnspecifiedParent | None = module_field(kw_only=True, default=None)
    # set on each subclass by __init_subclass__
    _compact_name_scope_methods: typing.ClassVar[tuple[str, ...]]

  scope = None  # the bound Scope (None while unbound); not a dataclass field
  _state = UNINITIALIZED_STATE
  _compact_name_scope_methods = ()
  _is_name_scope = False

  def __init_subclass__(cls, kw_only: bool = False, **kwargs: Any) -> None:
    super().__init_subclass__(**kwargs)
    dataclass_lib.customize(cls, kw_only)
    cls._compact_name_scope_methods = compact_name_scope_methods(cls)
    methods.wrap_module_attributes(cls)

  # ------------------------------------------------------------ lifecycle

  def __post_init__(self) -> None:
    state = state_lib.install(self)
    parent = self.parent
    if parent is UNSPECIFIED_PARENT:
      parent = context.current_module()
      state_lib.set_parent(self, parent)
    if parent is None:
      return  # a top-level (or detached) module: attached when cloned onto a scope
    if isinstance(parent, Module):
      pstate = parent._state
      name = self.__dict__['name']
      if pstate.in_setup and name is None:
        return  # named and bound when assigned to an attribute in setup
      if not parent._initialization_allowed or parent.scope is None:
        raise errors.AssignSubModuleError(type(self).__name__)
      if name is None:
        name = naming.auto_name(parent, type(self).__name__)
        state_lib.set_name(self, name)
      reuse = pstate.in_setup and pstate.setup_called == SetupState.TRANSFORMED
      if not reuse and parent.scope.name_reserved(name):
        raise errors.NameInUseError('submodule', name, type(parent).__name__)
      pstate.record_child(name, self)
      state_lib.set_scope(self, parent.scope.push(name, reuse=reuse))
    elif isinstance(parent, Scope):
      state_lib.set_scope(self, parent)
    else:
      raise ValueError('parent must be None, Module or Scope')
    if not naming.register_field_submodules(self):
      state.mark_fields_plain()
    state.mark_initialized()

  def __setattr__(self, name: str, val: Any) -> None:
    state = self._state
    if not state.in_setup:
      if not state.is_initialized or name.startswith('__'):
        state_lib.set_attribute(self, name, val)
        return
      raise errors.SetAttributeFrozenModuleError(type(self).__name__, name, val)
    if name in type(self)._flaxen_all_fields:
      raise errors.SetAttributeInModuleSetupError()
    naming.register_submodules(self, name, val)

  def __getattr__(self, name: str) -> Any:
    if name.startswith('__') and name.endswith('__'):
      raise AttributeError(name)
    try_setup(self)
    d = self.__dict__
    if name in d:
      return d[name]
    raise missing_attribute_error(self, name)

  def __dir__(self) -> Iterable[str]:
    try_setup(self)
    return object.__dir__(self)

  def __repr__(self) -> str:
    return repr_lib.module_repr(self)

  def setup(self) -> None:
    """Hook to define submodules and variables lazily (override in subclasses)."""

  @property
  def _initialization_allowed(self) -> bool:
    state = self._state
    return not state.is_initialized or state.in_setup or state.in_compact_method

  def _try_setup(self, shallow: bool = False) -> None:
    try_setup(self, shallow=shallow)

  def _name_taken(self, name: str, reuse_scopes: bool = False, col: str | None = None) -> bool:
    if reuse_scopes or self.scope is None:
      return False
    return self.scope.name_reserved(name, col)

  # ---------------------------------------------------------- variables

  def param(self, name: str, init_fn: Callable[..., Any], *init_args: Any,
            unbox: bool = True, **init_kwargs: Any) -> Any:
    """Declares (or reads) parameter ``name`` of the ``params`` collection.

    ``init_fn(key, *init_args, **init_kwargs)`` is called with a key of the
    ``params`` stream only when the parameter does not exist yet.

    Raises:
      ValueError: called outside ``setup`` or a compact method.
      NameInUseError: the name is already used in this module.
    """
    if not self._initialization_allowed:
      raise ValueError('Parameters must be initialized in `setup()` or in a method wrapped in `@compact`')
    if self.scope is None:
      raise _unbound('create parameters')
    if self._name_taken(name, col='params'):
      raise errors.NameInUseError('param', name, type(self).__name__)
    value = self.scope.param(name, init_fn, *init_args, unbox=unbox, **init_kwargs)
    self._state.record_child(name, 'params')
    return value

  def variable(self, col: str, name: str, init_fn: Callable[..., Any] | None = None,
               *init_args: Any, unbox: bool = True, **init_kwargs: Any) -> Variable:
    """Declares (or reads) variable ``name`` of collection ``col``; returns a ``Variable``.

    Raises:
      ValueError: called outside ``setup`` or a compact method.
      NameInUseError: the name is already used in this module.
    """
    if not self._initialization_allowed:
      raise ValueError('Variables must be initialized in `setup()` or in a method wrapped in `@compact`')
    if self.scope is None:
      raise _unbound('create variables')
    if self._name_taken(name, col=col):
      raise errors.NameInUseError('variable', name, type(self).__name__)
    v = self.scope.variable(col, name, init_fn, *init_args, unbox=unbox, **init_kwargs)
    self._state.record_child(name, col)
    return v

  def has_variable(self, col: str, name: str) -> bool:
    """Whether variable ``col/name`` exists in this module."""
    if self.scope is None:
      raise _unbound('access variables')
    return self.scope.has_variable(col, name)

  def get_variable(self, col: str, name: str, default: Any = None) -> Any:
    """The value of ``col/name`` in this module, or ``default``."""
    if self.scope is None:
      raise _unbound('access variables')
    return self.scope.get_variable(col, name, default)

  def put_variable(self, col: str, name: str, value: Any) -> None:
    """Sets ``col/name`` (``ModifyScopeVariableError`` when ``col`` is immutable)."""
    if self.scope is None:
      raise _unbound('access variables')
    self.scope.put_variable(col, name, value)

  def is_mutable_collection(self, col: str) -> bool:
    """Whether collection ``col`` may be written in this call."""
    if self.scope is None:
      raise _unbound('check mutability')
    return self.scope.is_mutable_collection(col)

  def is_initializing(self) -> bool:
    """True inside ``init``/``init_with_output``/``nn.init``."""
    if self.scope is None:
      raise _unbound('check if running under init()')
    return bool(self.scope.get_flag('initializing', False))

  def has_rng(self, name: str) -> bool:
    """Whether RNG stream ``name`` was given."""
    if self.scope is None:
      raise _unbound('query for RNGs')
    return self.scope.has_rng(name)

  def make_rng(self, name: str = 'params') -> Any:
    """A fresh key of stream ``name`` (deterministic from path and call count)."""
    if self.scope is None:
      raise _unbound('use RNGs')
    return self.scope.make_rng(name)

  def sow(self, col: str, name: str, value: Any, reduce_fn: Callable[[Any, Any], Any] = sow_lib.tuple_reduce,
          init_fn: Callable[[], Any] = sow_lib.tuple_init) -> bool:
    """Stores ``value`` in ``col/name`` (default: appends to a tuple); see ``sow.sow``."""
    return sow_lib.sow(self, col, name, value, reduce_fn, init_fn)

  def perturb(self, name: str, value: Any, collection: str = 'perturbations') -> Any:
    """Adds a zero ``collection/name`` variable to ``value``; see ``sow.perturb``."""
    return sow_lib.perturb(self, name, value, collection)

  @property
  def variables(self) -> Mapping[str, Any]:
    """The variables of this (bound) module, ``{collection: subtree}``."""
    if self.scope is None:
      raise _unbound('access variables')
    return self.scope.variables()

  @property
  def path(self) -> tuple[str, ...]:
    """The names from the root module to this one."""
    if self.scope is None:
      raise ValueError("Can't access module paths on unbound modules.")
    return self.scope.path

  # -------------------------------------------------------- entry points

  def clone(self, *, parent: Any = None, _deep_clone: Any = False,
            _reset_names: bool = False, **updates: Any) -> Self:
    """A new instance with the same fields (plus ``updates``), attached to ``parent``."""
    return entry.clone(self, parent, _deep_clone, _reset_names, updates)

  def copy(self, *, parent: Any = UNSPECIFIED_PARENT, name: str | None = None,
           **updates: Any) -> Self:
    """A deep copy with a new name (default: automatic), attached to the current module."""
    return entry.clone(self, parent, True, False, {'name': name, **updates})

  @traceback_util.api_boundary
  def init(self, rngs: Any, *args: Any, method: Any = None,
           mutable: Filter = DenyList('intermediates'),
           capture_intermediates: bool | Callable[..., bool] = False, **kwargs: Any) -> Any:
    """Initializes the variables by running ``method`` (default ``__call__``)."""
    entry.module_checks(self)
    return entry.init_with_output_method(
      self, rngs, args, kwargs, method, mutable, capture_intermediates
    )[1]

  @traceback_util.api_boundary
  def init_with_output(self, rngs: Any, *args: Any, method: Any = None,
                       mutable: Filter = DenyList('intermediates'),
                       capture_intermediates: bool | Callable[..., bool] = False,
                       **kwargs: Any) -> tuple[Any, Any]:
    """Like ``init`` but returns ``(output, variables)``."""
    entry.module_checks(self)
    return entry.init_with_output_method(
      self, rngs, args, kwargs, method, mutable, capture_intermediates
    )

  @traceback_util.api_boundary
  def apply(self, variables: Mapping[str, Any], *args: Any, rngs: Any = None,
            method: Any = None, mutable: Filter = False,
            capture_intermediates: bool | Callable[..., bool] = False, **kwargs: Any) -> Any:
    """Runs ``method`` (default ``__call__``) with ``variables``.

    Returns:
      The output, or ``(output, mutated_collections)`` when ``mutable`` is not False.
    """
    entry.module_checks(self)
    return entry.apply_method(
      self, variables, args, kwargs, rngs, method, mutable, capture_intermediates
    )

  @traceback_util.api_boundary
  def lazy_init(self, rngs: Any, *args: Any, method: Any = None,
                mutable: Filter = DenyList('intermediates'), **kwargs: Any) -> Any:
    """``init`` from ``jax.ShapeDtypeStruct`` inputs without running the computation."""
    entry.module_checks(self)
    return entry.lazy_init_method(self, rngs, args, kwargs, method, mutable)

  def bind(self, variables: Mapping[str, Any], *args: Any, rngs: Any = None,
           mutable: Filter = False) -> Self:
    """A bound clone with an unlimited lifetime (for interactive use)."""
    entry.module_checks(self)
    return entry.bind(self, variables, rngs, mutable)

  def unbind(self) -> tuple[Self, Any]:
    """``(unbound clone, variables of this module)`` of a bound module."""
    return entry.unbind(self)

  def tabulate(self, rngs: Any, *args: Any, **kwargs: Any) -> str:
    """A table summarising the submodules and variables (see ``nn.tabulate``)."""
    from flaxen._src.linen import summary

    return summary.tabulate(self, rngs, **_pop_tabulate_kwargs(kwargs))(*args, **kwargs)


  def module_paths(self, rngs: Any, *args: Any, show_repeated: bool = False,
                   mutable: Filter = DenyList('intermediates'), **kwargs: Any) -> dict[str, Any]:
    """``{path: unbound copy}`` of every module that ``init`` with these arguments calls."""
    from flaxen._src.linen.module.paths import module_paths

    return module_paths(self, rngs, args, kwargs, show_repeated, mutable)


_TABULATE_KEYS = ('depth', 'show_repeated', 'mutable', 'console_kwargs', 'table_kwargs',
                  'column_kwargs', 'compute_flops', 'compute_vjp_flops')


def _pop_tabulate_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
  return {k: kwargs.pop(k) for k in _TABULATE_KEYS if k in kwargs}


dataclass_lib.make_base(Module)

