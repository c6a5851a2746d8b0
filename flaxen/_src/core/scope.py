"""``Scope``: one layer's view of the variable dictionary and of the RNG streams.

Structure (flat, no copies):

* The **root** scope owns ``_variables``: ``{collection: {name: value | subtree}}``.
  Mutable collections were unfrozen into fresh plain dicts by ``bind``; immutable
  ones are the caller's objects and are never written.
* A **child** scope (``push(name)``) caches, per collection, a reference to its
  own sub-dict of the parent's, created lazily on first write. Dict insertion
  order is creation order, for collections and for variables.
* RNG streams are ``LazyRng`` (base key + path names). The k-th ``make_rng(s)``
  of a scope folds ``path + (k,)`` into the base key once (``rng.py``).
  Counters live in ``rng_counters`` (``{stream: count}``); the counters of a
  child are kept in the parent's ``rng_counters`` under ``(CHILD, name)`` so a
  re-pushed child (shared module, rewound compact method) continues them.
* ``reservations`` maps each used name to the set of collections it is used in
  (``None`` for a child scope); names may repeat across collections only.

A scope is invalidated when its ``temporary()`` context ends; using it afterwards
raises ``InvalidScopeError``. Storing a tracer of a JAX transform that started
after the scope was created (a raw ``jax.jit``/``jax.vmap`` around part of a
model) would leak it into the variables: ``put_variable`` raises
``JaxTransformError`` then (``tracers.py``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import jax

from flaxen._src import errors
from flaxen._src.config import config
from flaxen._src.core import lazy_record, meta, tracers
from flaxen._src.core.filters import Filter, in_filter
from flaxen._src.core.param_shape import check_param_shape, draws_no_key
from flaxen._src.core.rng import LazyRng
from flaxen._src.core.variables import Variable
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict, freeze

_EMPTY: Mapping[str, Any] = FrozenDict()


class _ChildToken:
  """Key marker for a child's counters inside ``rng_counters``."""

  def __repr__(self) -> str:
    return 'CHILD'


CHILD = _ChildToken()


@set_module('flaxen.core.scope')
class Scope:
  """A view on a variable dictionary and RNG streams for one layer.

  Args:
    variables: the collections (root) or ``{}`` (a child; filled lazily).
    rngs: ``{stream: key}`` or ``{stream: LazyRng}``.
    name: the name of this scope in its parent (``None`` for a root).
    mutable: a filter of the collections that may be written.
    parent: the parent scope (``None`` for a root).
    path: names from the root to this scope.
    flags: read-only flags shared by the whole tree (e.g. ``initializing``).
    rng_counters: the ``{stream: count}`` dict to use (shared, not copied).
  """

  def __init__(
    self,
    variables: dict[str, Any],
    rngs: Mapping[str, Any] | None = None,
    name: str | None = None,
    mutable: Filter = False,
    parent: Scope | None = None,
    path: tuple[str, ...] = (),
    flags: Mapping[str, Any] | None = None,
    rng_counters: dict[Any, Any] | None = None,
    debug_path: tuple[str, ...] | None = None,
  ):
    rngs = rngs or {}
    self._variables = variables
    self.parent = parent
    self.name = name
    self.path = tuple(path)
    self.debug_path = tuple(debug_path) if debug_path is not None else self.path
    self.rngs = {k: v if isinstance(v, LazyRng) else LazyRng(v) for k, v in rngs.items()}
    self.mutable = mutable
    self.flags = freeze({} if flags is None else flags)
    # a root keeps None here rather than itself: a self-reference would be a reference
    # cycle, kept alive (with every traced value in _variables and rngs) until the next
    # garbage collection, which jax.checking_leaks reports as a leaked tracer
    self._root: Scope | None = parent.root if parent is not None else None
    self.trace_level = tracers.current_trace()
    self.rng_counters = rng_counters if rng_counters is not None else {k: 0 for k in self.rngs}
    self.reservations: dict[str, set[str | None]] = {}
    self._invalid = False

  def _derive(self, variables, name, parent, path, debug_path, rngs, counters) -> Scope:
    """A scope sharing this one's mutability and flags (no re-validation of arguments)."""
    scope = Scope.__new__(Scope)
    scope._variables = variables
    scope.parent = parent
    scope.name = name
    scope.path = path
    scope.debug_path = debug_path
    scope.rngs = rngs
    scope.mutable = self.mutable
    scope.flags = self.flags
    scope._root = parent.root if parent is not None else None
    scope.trace_level = tracers.current_trace()
    scope.rng_counters = counters
    scope.reservations = {}
    scope._invalid = False
    return scope

  # ------------------------------------------------------------------ state

  @property
  def root(self) -> Scope:
    """The root scope of this tree (``self`` for a root), which owns the variables."""
    root = self._root
    return self if root is None else root

  @property
  def invalid(self) -> bool:
    """Whether ``invalidate()`` was called (the scope may no longer be used)."""
    return self._invalid

  def invalidate(self) -> None:
    """Marks this scope as unusable."""
    self._invalid = True

  def _check_valid(self) -> None:
    if self._invalid:
      raise errors.InvalidScopeError(self.name)

  def _leak_error(self, col: str, name: str) -> Exception:
    err = errors.JaxTransformError()
    if hasattr(err, 'add_note'):  # Python >= 3.11 (on 3.10 this call raised AttributeError)
      err.add_note(
        f'Storing "{col}/{name}" in "{self.path_text}" would keep a tracer of a JAX transform '
        'applied inside the model; use the lifted transform (nn.jit, nn.vmap, ...) instead.'
      )
    return err

  @contextlib.contextmanager
  def temporary(self) -> Iterator[Scope]:
    """Context manager yielding this scope and invalidating it on exit."""
    try:
      yield self
    finally:
      self.invalidate()

  @property
  def path_text(self) -> str:
    """The debug path as ``'/a/b'`` (``'/'`` for the root; transforms show as ``vmap(b)``)."""
    return '/' + '/'.join(self.debug_path)

  def _identity(self) -> tuple:
    # A scope and its rewound copy view the same variable dict at the same path
    # with the same counters: they behave identically, so they compare equal.
    return (id(self.root._variables), self.path, id(self.rng_counters))

  def __eq__(self, other: Any) -> bool:
    return self is other or (isinstance(other, Scope) and self._identity() == other._identity())

  def __hash__(self) -> int:
    return hash(self._identity())

  def has_flag(self, key: str) -> bool:
    return key in self.flags

  def get_flag(self, key: str, default: Any = None) -> Any:
    return self.flags.get(key, default)

  def rewound(self, rewind_rngs: bool = False) -> Scope:
    """A fresh scope on the same variables, with no names reserved.

    Args:
      rewind_rngs: also restart the RNG counters (by default they continue).
    """
    self._check_valid()
    counters = self.rng_counters if not rewind_rngs else {k: 0 for k in self.rngs}
    return self._derive(self._variables, self.name, self.parent, self.path, self.debug_path,
                        self.rngs, counters)

  # ------------------------------------------------------------------ names

  def name_reserved(self, name: str, col: str | None = None) -> bool:
    """Whether ``name`` is taken (for collection ``col``; ``None``: for a child scope)."""
    cols = self.reservations.get(name)
    if cols is None:
      return False
    if col is None or None in cols or col in cols:
      return True
    return not config.flax_relaxed_naming

  def reserve(self, name: str, col: str | None = None) -> None:
    """Reserves ``name`` (in ``col``).

    Raises:
      TypeError: ``name`` is not a string.
      ValueError: the name is already in use.
    """
    if not isinstance(name, str):
      raise TypeError(f'The type of scope "{name}" should be string but it is {type(name)}')
    if self.name_reserved(name, col):
      raise ValueError(f'Duplicate use of scope name: "{name}" in "{self.path_text}"')
    cols = self.reservations.get(name)
    if cols is None:
      self.reservations[name] = {col}
    else:
      cols.add(col)

  def default_name(self, prefix: str) -> str:
    """The first ``f'{prefix}{i}'`` (i = 0, 1, ...) that is not reserved."""
    candidates = (f'{prefix}{i}' for i in itertools.count())
    return next(n for n in candidates if n not in self.reservations)

  def push(self, name: str | None = None, prefix: str = '', reuse: bool = False) -> Scope:
    """Creates the child scope ``name`` (default: ``default_name(prefix)``).

    Args:
      name: the child's name.
      prefix: prefix for an automatic name.
      reuse: allow a name that is already reserved (a shared child).
    """
    self._check_valid()
    child_name = self.default_name(prefix) if name is None else name
    if not (reuse and child_name in self.reservations):
      self.reserve(child_name)
    return self._child_scope(child_name)

  def _child_scope(self, name: str) -> Scope:
    # The child's counters live in ours, so a child pushed again continues them.
    counters = self.rng_counters.get((CHILD, name))
    if counters is None:
      counters = self.rng_counters[(CHILD, name)] = dict.fromkeys(self.rngs, 0)
    streams = {k: LazyRng(r.rng, (*r.suffix, name)) for k, r in self.rngs.items()}
    return self._derive({}, name, self, (*self.path, name), (*self.debug_path, name), streams,
                        counters)

  def child(
    self,
    fn: Callable[..., Any],
    name: str | None = None,
    prefix: str | None = None,
    named_call: bool = True,
    **partial_kwargs: Any,
  ) -> Callable[..., Any]:
    """Partially applies ``fn`` to a new child scope.

    The child is named ``name``, else ``default_name(prefix)`` where ``prefix``
    defaults to ``fn.__name__ + '_'``. Each call of the result runs on a rewound
    copy of the child (names free again, RNG counters continuing).

    Returns:
      ``wrapper(*args, **kwargs)`` calling ``fn(child_scope, *args, **kwargs)``.
    """
    if name is None:
      auto = getattr(fn, '__name__', None)
      name = self.default_name((auto + '_' if auto else '') if prefix is None else prefix)
    child_scope = self.push(name)
    label = name if named_call else None

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
      merged = {**partial_kwargs, **kwargs}
      with jax.named_scope(label) if label else contextlib.nullcontext():
        return fn(child_scope.rewound(), *args, **merged)

    return wrapper

  @contextlib.contextmanager
  def forked_rngs(self) -> Iterator[Scope]:
    """Within the block, each stream of this scope is a fresh key drawn from it, with no path.

    ``nn.jit`` runs its method with the module's streams forked this way: every
    call sees new keys, and the keys inside do not depend on where the module is.
    """
    saved = self.rngs
    self.rngs = {k: LazyRng(self.make_rng(k)) for k in saved}
    try:
      yield self
    finally:
      self.rngs = saved

  # ------------------------------------------------------------ collections

  def is_mutable_collection(self, col: str) -> bool:
    """Whether collection ``col`` may be written."""
    return in_filter(self.mutable, col)

  def is_collection_empty(self, col: str) -> bool:
    """Whether the whole variable dict has no entry in collection ``col``."""
    variables = self.root._variables
    return col not in variables or len(variables[col]) == 0

  def _collection(self, col: str) -> Mapping[str, Any]:
    """This scope's sub-dict of ``col`` (an empty mapping when there is none)."""
    got = self._variables.get(col)
    if got is not None:
      return got
    if self.parent is None:
      return _EMPTY
    name = cast(str, self.name)  # only the root has no name, and the root has no parent
    parent_col = self.parent._collection(col)
    if name not in parent_col:
      return _EMPTY
    got = parent_col[name]
    self._variables[col] = got
    return got

  def _mutable_collection(self, col: str) -> dict[str, Any]:
    """This scope's sub-dict of ``col``, created (empty) if missing."""
    if not self.is_mutable_collection(col):
      raise errors.ModifyScopeVariableError(col, '', self.path_text)
    got = self._variables.get(col)
    if got is not None:
      return got
    if self.parent is None:
      got = self._variables[col] = {}
      return got
    name = cast(str, self.name)  # only the root has no name, and the root has no parent
    parent_col = self.parent._mutable_collection(col)
    got = parent_col.get(name)
    if got is None:
      got = parent_col[name] = {}
    self._variables[col] = got
    return got

  def _populate_collections(self) -> None:
    for col in self.root._variables:
      self._collection(col)

  def variables(self) -> Mapping[str, Any]:
    """The variables of this scope, ``{collection: subtree}``."""
    self._populate_collections()
    xs = {k: v for k, v in self._variables.items() if v is not _EMPTY}
    return freeze(xs) if config.flax_return_frozendict else xs

  def mutable_variables(self) -> Mapping[str, Any]:
    """The variables of the mutable collections of this scope."""
    self._populate_collections()
    xs = {k: v for k, v in self._variables.items() if in_filter(self.mutable, k)}
    return freeze(xs) if config.flax_return_frozendict else xs

  # -------------------------------------------------------------- variables

  def has_variable(self, col: str, name: str) -> bool:
    """Whether variable ``name`` exists in collection ``col`` of this scope."""
    return name in self._collection(col)

  def get_variable(self, col: str, name: str, default: Any = None) -> Any:
    """The value of ``col/name``, or ``default`` if it does not exist."""
    variables = self._collection(col)
    if name in variables:
      return variables[name]
    return default

  def put_variable(self, col: str, name: str, value: Any) -> None:
    """Sets ``col/name`` to ``value``.

    Raises:
      ModifyScopeVariableError: ``col`` is immutable.
      JaxTransformError: ``value`` holds a tracer of a raw JAX transform applied
        after this scope was made (it would leak; module docstring).
    """
    self._check_valid()
    if not self.is_mutable_collection(col):
      raise errors.ModifyScopeVariableError(col, name, self.path_text)
    if tracers.leaks(self.trace_level, value):
      raise self._leak_error(col, name)
    _put(self._mutable_collection(col), name, value)

  def variable(
    self,
    col: str,
    name: str,
    init_fn: Callable[..., Any] | None = None,
    *init_args: Any,
    unbox: bool = True,
    **init_kwargs: Any,
  ) -> Variable:
    """A ``Variable`` handle on ``col/name``, created with ``init_fn(*init_args)`` if missing.

    Raises:
      ScopeCollectionNotFound: missing, not creatable, and ``col`` is empty.
      ScopeVariableNotFoundError: missing and not creatable (immutable or no ``init_fn``).
    """
    self._check_valid()
    self.reserve(name, col)
    if not self.has_variable(col, name):
      if init_fn is None or not self.is_mutable_collection(col):
        raise self._missing(col, name, errors.ScopeVariableNotFoundError, name, col)
      recorder = lazy_record.RECORDER.get()
      if recorder is not None:
        self.put_variable(col, name, recorder.variable(init_fn, init_args, init_kwargs))
      else:
        self.put_variable(col, name, init_fn(*init_args, **init_kwargs))
    return Variable(self, col, name, unbox=unbox)

  def _missing(self, col: str, name: str, error: type, *error_args: Any) -> Exception:
    """The error for ``col/name`` that is absent and may not be created now."""
    if self.is_collection_empty(col):
      return errors.ScopeCollectionNotFound(col, name, self.path_text)
    return error(*error_args, self.path_text)

  def param(
    self,
    name: str,
    init_fn: Callable[..., Any],
    *init_args: Any,
    unbox: bool = True,
    **init_kwargs: Any,
  ) -> Any:
    """The parameter ``name``, created with ``init_fn(make_rng('params'), *init_args)`` if missing.

    When the parameter exists, the shape ``init_fn`` would produce now is
    compared (abstractly) with the stored one.

    Raises:
      ScopeParamShapeError: the stored shape differs from the initializer's.
      ScopeCollectionNotFound: missing, ``params`` immutable and empty.
      ScopeParamNotFoundError: missing and ``params`` immutable.
    """
    self._check_valid()
    self.reserve(name, 'params')
    stored = self._collection('params')
    if name not in stored:
      if not self.is_mutable_collection('params'):
        raise self._missing('params', name, errors.ScopeParamNotFoundError, name)
      recorder = lazy_record.RECORDER.get()
      if recorder is not None:  # lazy_init's record pass: note the call, hand out zeros
        created = recorder.param(self._next_draw('params'), init_fn, init_args, init_kwargs)
      elif draws_no_key(init_fn):  # the draw counts; its key would be ignored
        created = init_fn(self._next_draw('params').rng, *init_args, **init_kwargs)
      else:
        created = init_fn(self._next_draw('params').as_jax_rng(), *init_args, **init_kwargs)
      self.put_variable('params', name, created)
      return meta.unbox(created) if unbox else created
    value = stored[name]
    check_param_shape(self.path_text, name, value, init_fn, init_args, init_kwargs)
    return meta.unbox(value) if unbox else value

  # -------------------------------------------------------------------- rng

  def has_rng(self, name: str) -> bool:
    """Whether stream ``name`` was given."""
    return name in self.rngs

  def make_rng(self, name: str = 'params') -> Any:
    """A new key of stream ``name`` (falls back to ``'params'`` when ``name`` is absent).

    Raises:
      InvalidRngError: neither ``name`` nor ``'params'`` was given.
    """
    return self._next_draw(name).as_jax_rng()

  def _next_draw(self, name: str) -> LazyRng:
    """Counts a draw of stream ``name`` (as ``make_rng``) and returns its key, not yet derived."""
    if name not in self.rngs:
      if 'params' not in self.rngs:
        raise errors.InvalidRngError(f'{self.name} needs PRNG for "{name}"')
      name = 'params'
    self._check_valid()
    count = self.rng_counters.get(name, 0) + 1
    self.rng_counters[name] = count
    r = self.rngs[name]
    return LazyRng(r.rng, r.suffix + (count,))

  def __repr__(self) -> str:
    return f'Scope(path={self.path_text!r}, mutable={self.mutable!r})'


def _put(target: dict[str, Any], key: str, val: Any) -> None:
  """Stores ``val``; merges into an existing sub-dict so child references stay valid."""
  cur = target.get(key)
  if isinstance(cur, dict) and isinstance(val, Mapping):
    for k, v in val.items():
      _put(cur, k, v)
  else:
    target[key] = val
