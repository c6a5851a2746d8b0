"""Global configuration flags of flaxen (``flaxen.config``).

Every flag has the reference's name (``flax_<name>``, plus the NNX-only
``nnx_<name>`` flags that exist so that reads and updates of them work) and is
preset from the environment variable ``NAME.upper()`` when the flag is defined
(``FLAX_RETURN_FROZENDICT=true``), parsed by ``static_bool_env`` /
``static_int_env``.

Invariants:
  * reading a flag is a plain instance-attribute lookup (``config.flax_profile``)
    because flags are read on hot paths (every module call);
  * flags change only through ``config.update`` (by name or ``FlagHolder``) or
    ``temp_flip_flag``; unknown names raise the reference's ``LookupError``;
    assigning a flag attribute directly raises ``AttributeError``, while other
    attribute names are ordinary attributes (as on the reference's object);
  * ``update`` stores any value, as the reference does (no type check);
  * ``temp_flip_flag`` restores the previous value even when its body raises.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Generic, NoReturn, TypeVar

from flaxen._src.public import set_module

T = TypeVar('T')

_PUBLIC = 'flaxen.configurations'

# spellings accepted by ``static_bool_env`` (compared in lower case)
_TRUTH = {
  **dict.fromkeys(('y', 'yes', 't', 'true', 'on', '1'), True),
  **dict.fromkeys(('n', 'no', 'f', 'false', 'off', '0'), False),
}


@set_module(_PUBLIC)
def static_bool_env(varname: str, default: bool) -> bool:
  """Reads environment variable ``varname`` as a boolean.

  True spellings (any case): ``y, yes, t, true, on, 1``; false spellings:
  ``n, no, f, false, off, 0``. When the variable is unset, ``str(default)`` is
  parsed the same way, as the reference does (so ``True``/``False``, ``1``/``0``
  and the strings above all work as defaults).

  Args:
    varname: the environment variable, e.g. ``'FLAX_PROFILE'``.
    default: the value when the variable is unset.

  Returns:
    The parsed boolean.

  Raises:
    ValueError: the variable (or, when it is unset, ``str(default)``) holds
      anything else (the message quotes the lower-cased value and the variable,
      as the reference's does).

  Example:
    >>> import os
    >>> os.environ['FLAXEN_DOC_FLAG'] = 'On'
    >>> static_bool_env('FLAXEN_DOC_FLAG', False)
    True
    >>> del os.environ['FLAXEN_DOC_FLAG']
    >>> static_bool_env('FLAXEN_DOC_FLAG', False)
    False
  """
  raw = os.environ.get(varname)
  spelled = (str(default) if raw is None else raw).lower()
  parsed = _TRUTH.get(spelled, _TRUTH.get(spelled.strip()))
  if parsed is None:
    raise ValueError(
      f'invalid truth value {spelled!r} for environment {varname!r}'
      f' (use one of: {", ".join(_TRUTH)})'
    )
  return parsed


@set_module(_PUBLIC)
def static_int_env(varname: str, default: int | None) -> int | None:
  """Reads environment variable ``varname`` as an integer (``default`` when unset).

  Raises:
    ValueError: the variable is not an integer.

  Example:
    >>> import os
    >>> os.environ['FLAXEN_DOC_INT'] = '12'
    >>> static_int_env('FLAXEN_DOC_INT', None)
    12
    >>> del os.environ['FLAXEN_DOC_INT']
  """
  raw = os.environ.get(varname)
  if raw is None:
    return default
  try:
    return int(raw)
  except ValueError:
    message = f'invalid integer value {raw!r} for environment {varname!r}'
    raise ValueError(message) from None


def _flag_name(var_name: str) -> str:
  """``'profile'`` / ``'flax_profile'`` -> ``'flax_profile'`` (``temp_flip_flag``'s spelling)."""
  lowered = var_name.lower()
  return lowered if lowered.startswith('flax_') else 'flax_' + lowered


@set_module(_PUBLIC)
class Config:
  """Holds the value of every flag; read them as attributes.

  Example:
    >>> from flaxen import config
    >>> config.flax_return_frozendict
    False
    >>> with config.temp_flip_flag('return_frozendict', True):
    ...   config.flax_return_frozendict
    True
  """

  # the flags, for type checkers (the values are instance attributes)
  flax_filter_frames: bool
  flax_profile: bool
  flax_use_orbax_checkpointing: bool
  flax_preserve_adopted_names: bool
  flax_return_frozendict: bool
  flax_fix_rng_separator: bool
  flax_use_flaxlib: bool
  flax_array_ref: bool
  flax_pytree_module: bool
  flax_max_repr_depth: int | None
  flax_always_shard_variable: bool
  flax_hijax_variable: bool
  nnx_graph_mode: bool
  nnx_graph_updates: bool
  flax_relaxed_naming: bool

  def __init__(self):
    object.__setattr__(self, '_help', {})

  def _define(self, name: str, value: Any, help: str) -> None:
    if name in self._help:
      raise RuntimeError(f'Config option {name} already defined')
    self._help[name] = help
    object.__setattr__(self, name, value)

  @property
  def values(self) -> dict[str, Any]:
    """A snapshot ``{flag name: current value}`` (flaxen's addition)."""
    return {name: getattr(self, name) for name in self._help}

  def update(self, name_or_holder: str | FlagHolder[Any], value: Any, /) -> None:
    """Sets a flag, given by its full name or by its ``FlagHolder``.

    Any value is stored as given (the reference does not check types).

    Raises:
      LookupError: no flag has that name.
    """
    if isinstance(name_or_holder, FlagHolder):
      name_or_holder = name_or_holder.name
    if name_or_holder not in self._help:
      raise LookupError(
        f'Unrecognized config option: {name_or_holder}'
        f' (known options: {", ".join(self._help)})'
      )
    object.__setattr__(self, name_or_holder, value)

  @contextlib.contextmanager
  def temp_flip_flag(self, var_name: str, var_value: Any) -> Iterator[None]:
    """Temporarily sets a flag, restoring the old value on exit (even on error).

    Args:
      var_name: the flag without its ``flax_`` prefix, as in the reference
        (flaxen also accepts the full name).
      var_value: the temporary value.

    Raises:
      AttributeError: no flag has that name (the reference's error class).
    """
    name = _flag_name(var_name)
    saved = getattr(self, name)
    try:
      self.update(name, var_value)
      yield
    finally:
      self.update(name, saved)

  def __setattr__(self, name: str, value: Any) -> None:
    if name in self._help:
      raise AttributeError(
        "property of 'Config' object has no setter;"
        f' change flags with config.update({name!r}, value)'
      )
    object.__setattr__(self, name, value)

  def __getattr__(self, name: str) -> Any:
    # only reached for names that are neither flags nor ordinary attributes
    hint = ''
    if name.startswith(('flax_', 'nnx_')):
      hint = f' (no such flag; known flags: {", ".join(self._help)})'
    raise AttributeError(f"'Config' object has no attribute {name!r}{hint}")

  def __repr__(self) -> str:
    lines = [f'\n  {name}={getattr(self, name)!r}' for name in self._help]
    return 'Config(' + ', '.join(lines) + '\n)'


@set_module(_PUBLIC)
class FlagHolder(Generic[T]):
  """A handle on one flag: ``holder.value`` is the flag's current value.

  Args:
    name: the flag's full name.
    help: its description (becomes the holder's docstring).
  """

  def __init__(self, name: str, help: str):
    self.name = name
    # the reference drops four characters of a ``flax_`` prefix here; kept as is
    self.__name__ = name[4:] if name.startswith('flax_') else name
    self.__doc__ = f'Flag holder for `{name}`.\n\n{help}'

  @property
  def value(self) -> T:
    """The flag's current value (``config.<name>``)."""
    return getattr(config, self.name)

  def __bool__(self) -> NoReturn:
    kind = type(self).__name__
    raise TypeError(
      f"bool() not supported for instances of type '{kind}'"
      f" (did you mean to use '{kind}.value' instead?)"
    )

  def __repr__(self) -> str:
    return f'FlagHolder({self.name}={self.value!r})'


config = Config()


@set_module(_PUBLIC)
def bool_flag(name: str, *, default: bool, help: str) -> FlagHolder[bool]:
  """Defines a boolean flag, preset from the environment variable ``name.upper()``.

  Args:
    name: the flag's name (lower-cased), e.g. ``'flax_enable_foo'``.
    default: its value when the environment does not set it.
    help: a description; it becomes the holder's docstring.

  Returns:
    A ``FlagHolder`` for the new flag.

  Raises:
    RuntimeError: a flag of that name exists already.
  """
  name = name.lower()
  config._define(name, static_bool_env(name.upper(), default), help)
  return FlagHolder(name, help)


@set_module(_PUBLIC)
def int_flag(name: str, *, default: int | None, help: str) -> FlagHolder[int]:
  """Defines an integer flag, preset from ``name.upper()`` (see ``bool_flag``)."""
  name = name.lower()
  config._define(name, static_int_env(name.upper(), default), help)
  return FlagHolder(name, help)


@set_module(_PUBLIC)
def define_bool_state(name: str, default: bool, help: str) -> FlagHolder[bool]:
  """Defines flag ``flax_<name>`` backed by ``FLAX_<NAME>`` (the seeds' spelling).

  Args:
    name: the flag name without its ``flax_`` prefix.
    default: the default value.
    help: a one-line description.
  """
  return bool_flag(_flag_name(name), default=default, help=help)


@set_module(_PUBLIC)
@contextlib.contextmanager
def temp_flip_flag(var_name: str, var_value: Any) -> Iterator[None]:
  """Module-level alias of ``config.temp_flip_flag``."""
  with config.temp_flip_flag(var_name, var_value):
    yield


# --- the flags, in the reference's order (same names and environment variables);
# flax_relaxed_naming is flaxen's own: the seeds' flag, gone from today's reference,
# which always names relaxedly ---

flax_filter_frames = bool_flag(
  'flax_filter_frames', default=True,
  help='Hide flaxen-internal stack frames from tracebacks.')
flax_profile = bool_flag(
  'flax_profile', default=True,
  help='Run Module methods under jax.named_scope so they show up in profiles.')
flax_use_orbax_checkpointing = bool_flag(
  'flax_use_orbax_checkpointing', default=True,
  help='Save checkpoints with Orbax (as the reference does by default).')
flax_relaxed_naming = bool_flag(
  'flax_relaxed_naming', default=True,
  help='Allow variables of different collections to share a name in one module.')
flax_preserve_adopted_names = bool_flag(
  'flax_preserve_adopted_names', default=False,
  help='Keep the existing name of a module adopted from outside instead of renaming it.')
flax_return_frozendict = bool_flag(
  'flax_return_frozendict', default=False,
  help='Return FrozenDicts (instead of dicts) from init and apply.')
flax_fix_rng_separator = bool_flag(
  'flax_fix_rng_separator', default=False,
  help='Insert separators when folding static data into PRNG keys.')
flax_fix_rng = flax_fix_rng_separator  # the reference's module-level name for this holder
# NNX-only flags: flaxen has no NNX, so nothing reads them; they exist so that
# ``config.<flag>`` reads, ``config.update`` and FLAX_*/NNX_* variables keep working.
flax_use_flaxlib = bool_flag(
  'flax_use_flaxlib', default=False,
  help='Use the flaxlib C++ acceleration (not available in flaxen; accepted for compatibility).')
flax_array_ref = bool_flag(
  'flax_array_ref', default=False, help='Use array refs (NNX; accepted for compatibility).')
flax_pytree_module = bool_flag(
  'flax_pytree_module', default=True,
  help='Whether NNX Modules are pytrees (accepted for compatibility).')
flax_max_repr_depth = int_flag(
  'flax_max_repr_depth', default=None,
  help='Maximum depth of reprs for nested flax objects (None: no limit).')
flax_always_shard_variable = bool_flag(
  'flax_always_shard_variable', default=True,
  help='Shard NNX variables that carry sharding annotations (accepted for compatibility).')
flax_hijax_variable = bool_flag(
  'flax_hijax_variable', default=False,
  help='HiJAX support for NNX variables (accepted for compatibility).')
nnx_graph_mode = bool_flag(
  'nnx_graph_mode', default=True,
  help='Whether NNX APIs default to graph mode (NNX only; accepted for compatibility).')
nnx_graph_updates = bool_flag(
  'nnx_graph_updates', default=True,
  help='Whether NNX graph mode uses dynamic graph traversal (NNX only; accepted for compatibility).')
