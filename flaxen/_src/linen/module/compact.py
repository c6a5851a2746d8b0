"""The ``@compact`` and ``@nowrap`` decorators.

``@compact`` marks a method in which submodules and variables may be created
inline. A class may have several (as the reference's today: unnamed submodules
get their ``<Class>_<i>`` names from one counter per module, so a compact
method called from another continues its numbering). ``@nowrap`` marks a helper
method that must not go through the Module state machinery (so it can run on
unbound modules and does not trigger ``setup``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flaxen._src.public import set_module

F = TypeVar('F', bound=Callable[..., Any])


@set_module('flaxen.linen')
def compact(fun: F) -> F:
  """Marks ``fun`` as the compact method of its Module (inline submodules and variables).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Scale(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x):
    ...     return x * self.param('s', nn.initializers.ones, (x.shape[-1],))
    >>> Scale().init(jax.random.key(0), jnp.ones(3))['params']['s'].shape
    (3,)
  """
  fun.compact = True  # type: ignore[attr-defined]
  return fun


@set_module('flaxen.linen')
def nowrap(fun: F) -> F:
  """Marks ``fun`` as a plain helper method (not wrapped by the Module machinery)."""
  fun.nowrap = True  # type: ignore[attr-defined]
  return fun


def _own_attributes(cls: type):
  """``(name, attribute)`` of ``cls`` as lookup finds them (first definition in the MRO)."""
  seen: set[str] = set()
  for klass in cls.__mro__:
    for key, attr in klass.__dict__.items():
      if key not in seen:
        seen.add(key)
        yield key, attr


def compact_name_scope_methods(cls: type) -> tuple[str, ...]:
  """Names of the ``@compact_name_scope`` methods of ``cls`` (inherited included)."""
  return tuple(
    key for key, attr in _own_attributes(cls)
    if getattr(attr, 'compact_name_scope', False) is True
  )
