"""``compact_name_scope``: a method that runs in its own named child scope.

A method decorated with ``@nn.compact_name_scope`` behaves like a compact
method whose submodules and variables live under a child scope named after the
method (``up/Dense_0`` for a method ``up``). During ``setup`` each such method
gets a ``CompactNameScope`` child module (named like the method); calling the
method calls that child, which runs the original function with the outer module
as ``self`` while the child is the innermost running module, so submodules
created inside are attached to the child.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.module.setup import register_name_scope_factory
from flaxen._src.public import set_module

F = TypeVar('F', bound=Callable[..., Any])


@set_module('flaxen.linen.module')
class CompactNameScope(Module):
  """Internal child module backing one ``compact_name_scope`` method."""

  fn: Callable[..., Any]
  module_fn: Callable[[], Any]

  _is_name_scope = True

  @compact
  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    return self.fn(self.module_fn(), *args, **kwargs)


@set_module('flaxen.linen')
def compact_name_scope(fun: F) -> F:
  """Runs ``fun`` as a compact method inside a child scope named after it.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Two(nn.Module):
    ...   @nn.compact_name_scope
    ...   def up(self, x):
    ...     return nn.Dense(2)(x)
    ...   def __call__(self, x):
    ...     return self.up(x)
    >>> list(Two().init(jax.random.key(0), jnp.ones((1, 3)))['params'])
    ['up']
  """

  @functools.wraps(fun)
  def compact_name_scope_wrapper(self, *args, **kwargs):
    if not isinstance(self, Module):
      raise ValueError('compact_name_scope must be used on Module methods.')
    self._try_setup()
    modules = self.__dict__.get('_compact_name_scope_modules')
    if modules is None:
      raise ValueError(
        f'Cannot call compact_name_scope method {fun.__name__!r} on an unbound '
        f'{type(self).__name__}.'
      )
    return modules[fun.__name__](*args, **kwargs)

  compact_name_scope_wrapper.compact_name_scope = True  # type: ignore[attr-defined]
  compact_name_scope_wrapper.inner_fun = fun  # type: ignore[attr-defined]
  compact_name_scope_wrapper.nowrap = True  # type: ignore[attr-defined]
  return compact_name_scope_wrapper  # type: ignore[return-value]


def make_name_scope_modules(module: Any, names: tuple[str, ...]) -> dict[str, Any]:
  """Creates the ``CompactNameScope`` children of ``module`` (called from setup)."""
  cls = type(module)
  return {
    # module_fn holds the outer module weakly (a weakref is a zero-argument callable that
    # returns it): the outer module holds its name-scope children, so a strong reference
    # back would be a reference cycle keeping the module tree, its scopes and any traced
    # values in them alive until the next garbage collection
    name: CompactNameScope(
      getattr(cls, name).inner_fun, weakref.ref(module), parent=module, name=name
    )
    for name in names
  }


register_name_scope_factory(make_name_scope_modules)
