"""Global configuration flags of flaxen (``flaxen.config``).

Every flag is named ``flax_<name>`` (the reference's names, so user code that
toggles ``flax.config`` keeps working) and can be preset through the
environment variable ``FLAX_<NAME>`` (``FLAX_RETURN_FROZENDICT=true``), parsed by
``static_bool_env``.

Invariants:
  * reading a flag is a plain instance-attribute lookup (``config.flax_profile``)
    because flags are read on hot paths (every module call);
  * flags only change through ``config.update`` (or ``temp_flip_flag``), which
    rejects unknown names; direct attribute assignment is refused;
  * ``temp_flip_flag`` restores the previous value even when its body raises.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from flaxen._src.public import set_module

T = TypeVar('T')

_TRUE = frozenset(('y', 'yes', 't', 'true', 'on', '1'))
_FALSE = frozenset(('n', 'no', 'f', 'false', 'off', '0'))


@set_module('flaxen.configurations')
def static_bool_env(varname: str, default: bool) -> bool:
  """Reads environment variable ``varname`` as a boolean.

  True spellings (any case): ``y, yes, t, true, on, 1``; false spellings:
  ``n, no, f, false, off, 0``.

  Args:
    varname: the environment variable, e.g. ``'FLAX_PROFILE'``.
    default: the value when the variable is unset.

  Returns:
    The parsed boolean.

  Raises:
    ValueError: the variable holds anything else.
  """
  raw = os.environ.get(varname)
  if raw is None:
    return bool(default)
  val = raw.strip().lower()
  if val in _TRUE:
    return True
  if val in _FALSE:
    return False
  raise ValueError(f'invalid truth value {raw!r} for environment variable {varname!r}')


@set_module('flaxen.configurations')
def static_int_env(varname: str, default: int | None) -> int | None:
  """Reads environment variable ``varname`` as an integer (``default`` when unset).

  Raises:
    ValueError: the variable is not an integer.
  """
  raw = os.environ.get(varname)
  if raw is None:
    return default
  try:
    return int(raw)
  except ValueError:
    raise ValueError(f'invalid integer value {raw!r} for environment variable {varname!r}') from None


def _full_name(name: str) -> str:
  name = name.lower()
  return name if name.startswith('flax_') else f'flax_{name}'


@set_module('flaxen.configurations')
class Config:
  """Holds the values of every ``flax_*`` flag; read them as attributes.

  Example:
    >>> from flaxen import config
    >>> config.flax_return_frozendict
    False
    >>> with config.temp_flip_flag('return_frozendict', True):
    ...   config.flax_return_frozendict
    True
  """

  def __init__(self):
    object.__setattr__(self, '_help', {})

  def _define(self, name: str, value: Any, help: str) -> None:
    if name in self._help:
      raise RuntimeError(f'Config option {name} already defined')
    self._help[name] = help
    object.__setattr__(self, name, value)

  @property
  def values(self) -> dict[str, Any]:
    """A snapshot ``{flag name: current value}``."""
    return {name: getattr(self, name) for name in self._help}

  def update(self, name: str | FlagHolder, value: Any, /) -> None:
    """Sets flag ``name`` (``'flax_<name>'`` or a ``FlagHolder``) to ``value``.

    Raises:
      LookupError: no flag has that name.
    """
    if isinstance(name, FlagHolder):
      name = name.name
    if name not in self._help:
      known = ', '.join(sorted(self._help))
      raise LookupError(f'Unrecognized config option: {name!r}. Known options: {known}')
    object.__setattr__(self, name, value)

  @contextlib.contextmanager
  def temp_flip_flag(self, var_name: str, var_value: Any) -> Iterator[None]:
    """Temporarily sets a flag, restoring the old value on exit (even on error).

    Args:
      var_name: the flag, with or without the ``flax_`` prefix.
      var_value: the temporary value.
    """
    name = _full_name(var_name)
    if name not in self._help:
      self.update(name, var_value)  # raises the LookupError
    old = getattr(self, name)
    self.update(name, var_value)
    try:
      yield
    finally:
      self.update(name, old)

  def __setattr__(self, name: str, value: Any) -> None:
    raise AttributeError(
      f'Cannot assign config.{name} directly; use config.update({name!r}, value).'
    )

  def __getattr__(self, name: str) -> Any:
    # only reached for unknown names: defined flags are plain instance attributes
    raise AttributeError(f'Unrecognized config option: {name!r}')

  def __repr__(self) -> str:
    inner = ''.join(f'\n  {k}={v!r},' for k, v in self.values.items())
    return f'Config({inner}\n)'


@set_module('flaxen.configurations')
class FlagHolder(Generic[T]):
  """A handle on one flag: ``holder.value`` is the flag's current value."""

  def __init__(self, config: Config, name: str, help: str):
    self._config = config
    self.name = name
    self.__doc__ = f'Flag holder for `{name}`.\n\n{help}'

  @property
  def value(self) -> T:
    return getattr(self._config, self.name)

  def __bool__(self):
    raise TypeError(f'bool() of a FlagHolder is ambiguous; use {self.name}.value instead.')

  def __repr__(self) -> str:
    return f'FlagHolder({self.name}={self.value!r})'


config = Config()


@set_module('flaxen.configurations')
def bool_flag(name: str, *, default: bool, help: str) -> FlagHolder[bool]:
  """Defines boolean flag ``name`` (``flax_...``) backed by env var ``NAME.upper()``.

  Args:
    name: the full flag name, e.g. ``'flax_enable_foo'``.
    default: its value when the environment does not set it.
    help: a one-line description.

  Returns:
    A ``FlagHolder`` for the new flag.
  """
  name = name.lower()
  config._define(name, static_bool_env(name.upper(), default), help)
  return FlagHolder(config, name, help)


@set_module('flaxen.configurations')
def int_flag(name: str, *, default: int | None, help: str) -> FlagHolder[int]:
  """Defines integer flag ``name`` backed by env var ``NAME.upper()`` (see ``bool_flag``)."""
  name = name.lower()
  config._define(name, static_int_env(name.upper(), default), help)
  return FlagHolder(config, name, help)


@set_module('flaxen.configurations')
def define_bool_state(name: str, default: bool, help: str) -> FlagHolder[bool]:
  """Defines flag ``flax_<name>`` backed by env var ``FLAX_<NAME>``.

  Args:
    name: the flag name without its ``flax_`` prefix.
    default: the default value.
    help: a one-line description.
  """
  return bool_flag(_full_name(name), default=default, help=help)


@set_module('flaxen.configurations')
@contextlib.contextmanager
def temp_flip_flag(var_name: str, var_value: Any) -> Iterator[None]:
  """Module-level alias of ``config.temp_flip_flag``."""
  with config.temp_flip_flag(var_name, var_value):
    yield


# --- the flags (same names as the reference) ---

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
