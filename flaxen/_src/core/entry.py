"""Entry points of the functional core: ``init``, ``apply``, ``bind``, ``lazy_init``.

``apply(fn, mutable)(variables, *args, rngs=None)`` validates its inputs, copies
the mutable collections into fresh plain dicts (the caller's dicts are never
written), builds a root ``Scope``, calls ``fn(scope, *args)``, invalidates the
scope and returns the output, plus the mutable collections when ``mutable`` is
not ``False``. ``init`` is ``apply`` on ``{}`` with ``rngs={'params': key}``
(when a bare key is given) and the ``initializing`` flag set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src import errors
from flaxen._src.core.filters import DenyList, Filter, in_filter
from flaxen._src.core.rng import is_valid_rng, is_valid_rngs
from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict, unfreeze

__all__ = ['init', 'apply', 'bind', 'lazy_init', 'DenyList']


def _is_valid_collection(col: Any) -> bool:
  if not isinstance(col, dict | FrozenDict):
    return False
  return all(isinstance(k, str) for k in col.keys())


def is_valid_variables(variables: Any) -> bool:
  """Whether ``variables`` is a mapping of collections, each a mapping with string keys."""
  if not isinstance(variables, dict | FrozenDict):
    return False
  return all(isinstance(k, str) and _is_valid_collection(c) for k, c in variables.items())


def _unfreeze_variables(variables: Mapping[str, Any], mutable: Filter) -> dict[str, Any]:
  out = {}
  for key, value in variables.items():
    out[key] = unfreeze(value) if in_filter(mutable, key) else value
  return out


def _check_structure(variables: Mapping[str, Any]) -> None:
  params = variables.get('params') if isinstance(variables, Mapping) else None
  if isinstance(params, dict | FrozenDict) and 'params' in params:
    raise errors.ApplyScopeInvalidVariablesStructureError(variables)


@set_module('flaxen.core')
def bind(
  variables: Mapping[str, Any],
  rngs: Mapping[str, Any] | None = None,
  mutable: Filter = False,
  flags: Mapping[str, Any] | None = None,
) -> Scope:
  """A root ``Scope`` on ``variables`` with an unlimited lifetime.

  Raises:
    ApplyScopeInvalidVariablesTypeError: ``variables`` is not a dict of collections.
    InvalidRngError: ``rngs`` is not a dict of keys.
  """
  if not is_valid_variables(variables):
    raise errors.ApplyScopeInvalidVariablesTypeError()
  if rngs is not None and not is_valid_rngs(rngs):
    raise errors.InvalidRngError(
      'rngs should be a dictionary mapping strings to `jax.PRNGKey`.'
    )
  return Scope(_unfreeze_variables(variables, mutable), rngs=rngs, mutable=mutable, flags=flags)


# the reference's wording (with its reStructuredText double backticks)
_BAD_KEY = '{what} should be a ``jax.PRNGKey`` or a dictionary mapping strings to ``jax.PRNGKey``.'


@set_module('flaxen.core')
def apply(
  fn: Callable[..., Any], mutable: Filter = False, flags: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
  """Functionalizes ``fn(scope, *args, **kwargs)``.

  Returns:
    ``wrapper(variables, *args, rngs=None, **kwargs)`` returning ``fn``'s output,
    or ``(output, mutated_collections)`` when ``mutable`` is not ``False``.
  """

  @functools.wraps(fn)
  def wrapper(variables, *args, rngs=None, **kwargs):
    if rngs is not None:
      if not is_valid_rng(rngs) and not is_valid_rngs(rngs):
        raise ValueError(_BAD_KEY.format(what='The ``rngs`` argument passed to an apply function'))
      if not isinstance(rngs, Mapping):
        rngs = {'params': rngs}
    if not is_valid_variables(variables):
      raise errors.ApplyScopeInvalidVariablesTypeError()
    _check_structure(variables)
    with bind(variables, rngs=rngs, mutable=mutable, flags=flags).temporary() as root:
      y = fn(root, *args, **kwargs)
      if mutable is not False:
        return y, root.mutable_variables()
      return y

  return wrapper


@set_module('flaxen.core')
def init(
  fn: Callable[..., Any], mutable: Filter = True, flags: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
  """Functionalizes ``fn(scope, *args)`` for initialization.

  Returns:
    ``wrapper(rngs, *args, **kwargs) -> (output, variables)``; ``rngs`` is a key
    (the ``params`` stream) or a dict of keys.

  Raises:
    ValueError: ``rngs`` is neither a key nor a dict of keys.
  """

  @functools.wraps(fn)
  def wrapper(rngs, *args, **kwargs):
    if not is_valid_rng(rngs) and not is_valid_rngs(rngs):
      raise ValueError(_BAD_KEY.format(what='First argument passed to an init function'))
    if not isinstance(rngs, Mapping):
      rngs = {'params': rngs}
    init_flags = {**(flags or {}), 'initializing': True}
    return apply(fn, mutable=mutable, flags=init_flags)({}, *args, rngs=rngs, **kwargs)

  return wrapper


@set_module('flaxen.core')
def lazy_init(
  fn: Callable[..., Any], mutable: Filter = True, flags: Mapping[str, Any] | None = None
) -> Callable[..., Any]:
  """Like ``init`` but arguments may be ``jax.ShapeDtypeStruct``; returns only the variables.

  Raises:
    LazyInitError: a variable depends on the value of an abstract argument.
  """
  from flaxen._src.core.partial_eval import lazy_init as _lazy

  return _lazy(lambda rngs, *args, **kwargs: init(fn, mutable, flags)(rngs, *args, **kwargs)[1])
