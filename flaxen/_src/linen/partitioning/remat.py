"""The legacy ``partitioning.remat``: static arguments counted after the module.

``nn.remat``'s ``static_argnums`` count ``self`` (or the module argument of a
function target) as position 0. The legacy API counts from the first argument
*after* it -- index 0 is ``x`` in ``__call__(self, x, train)`` -- and ignores
positions the call does not reach (an argument left to its default stays a
Python value). Passing one convention's numbers to the other makes the wrong
argument static, which fails under tracing.

So each lifted method decides its static positions per call -- the requested
positions present in this call, shifted by one -- and delegates to ``nn.remat``
of the original method with those positions (one lifted function per distinct
set, cached). The class is named ``Core_remat_static<Class>`` as in the
reference, so auto-named instances and parameter trees match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms import remat as linen_remat
from flaxen._src.linen.transforms.bridge import is_module_class
from flaxen._src.public import set_module

_PUBLIC = 'flaxen.linen.partitioning'
_PREFIX = 'Core_remat_static'
_CONCRETE = (
  'The concrete argument is deprecated. Use static_argnums instead. for more information, '
  'see https://docs.jax.dev/en/latest/jep/11830-new-remat-checkpoint.html'
)


def _positions(static_argnums: Any) -> tuple[int, ...]:
  if isinstance(static_argnums, int):
    return (static_argnums,)
  return tuple(sorted(static_argnums))


def _reject_concrete(concrete: bool) -> None:
  if concrete:
    raise NotImplementedError(_CONCRETE)


@set_module(_PUBLIC)
def core_remat_static(
  fn: Callable[..., Any],
  variables: Any = True,
  rngs: Any = True,
  concrete: bool = False,
  prevent_cse: bool = True,
  static_argnums: int | tuple[int, ...] = (),
  policy: Callable[..., bool] | None = None,
) -> Callable[..., Any]:
  """``flaxen.core.lift.remat`` of ``fn(scope, *args)``; ``static_argnums`` count after the scope.

  Raises:
    NotImplementedError: ``concrete=True`` (removed from ``jax.checkpoint``).
  """
  _reject_concrete(concrete)
  return lift.checkpoint(fn, variables=variables, rngs=rngs, prevent_cse=prevent_cse,
                         static_argnums=_positions(static_argnums), policy=policy)


def _remat_each_call(fn: Callable[..., Any], positions: tuple[int, ...], concrete: bool,
                     remat_kwargs: dict[str, Any]) -> Callable[..., Any]:
  """``fn(module, *args)`` rematerialised with the positions this call reaches made static."""
  by_statics: dict[tuple[int, ...], Callable[..., Any]] = {}

  @functools.wraps(fn)
  def call(module, *args, **kwargs):
    _reject_concrete(concrete)  # at call time, as the reference
    statics = tuple(p + 1 for p in positions if 0 <= p < len(args))
    lifted = by_statics.get(statics)
    if lifted is None:
      lifted = by_statics[statics] = linen_remat(fn, static_argnums=statics, **remat_kwargs)
    return lifted(module, *args, **kwargs)

  # like every lifted method: the Module machinery runs inside, on the lifted clone
  call.method_handler_wrapped = True  # type: ignore[attr-defined]
  return call


def _method_options(methods: Any, defaults: dict[str, Any]) -> dict[str, dict[str, Any]]:
  if methods is None:
    return {'__call__': defaults}
  if isinstance(methods, dict):
    return {name: {**defaults, **dict(options)} for name, options in methods.items()}
  if isinstance(methods, list | tuple):
    return {name: defaults for name in methods}
  raise ValueError('transform methods argument must be None, tuple, list, or dict.')


def _remat_class(target: Any, options: dict[str, dict[str, Any]]) -> Any:
  partial_of = target if isinstance(target, functools.partial) else None
  base = target.func if partial_of is not None else target
  attrs = {}
  for name, opts in options.items():
    opts = dict(opts)
    concrete = opts.pop('concrete', False)
    positions = _positions(opts.pop('static_argnums', ()))
    attrs[name] = _remat_each_call(getattr(base, name), positions, concrete, opts)
  cls = type(_PREFIX + base.__name__, (base,), attrs)
  cls.__module__ = base.__module__
  cls.__qualname__ = _PREFIX + base.__qualname__
  if partial_of is not None:
    return functools.partial(cls, *partial_of.args, **partial_of.keywords)
  return cls


@set_module(_PUBLIC)
def remat(
  target: Any,
  variables: Any = True,
  rngs: Any = True,
  concrete: bool = False,
  prevent_cse: bool = True,
  static_argnums: int | tuple[int, ...] = (),
  policy: Callable[..., bool] | None = None,
  methods: Any = None,
) -> Any:
  """Lifted remat whose ``static_argnums`` count from the first argument after the module.

  Args:
    target: a Module class, or a function whose first argument is a module.
    variables, rngs, prevent_cse, policy: as for ``nn.remat``.
    concrete: must be ``False`` (removed from ``jax.checkpoint``).
    static_argnums: positions, after the module, of arguments to keep static.
    methods: the methods to lift (default ``__call__``); a dict maps a method
      name to its own options.

  Returns:
    The rematerialised class (``Core_remat_static<Class>``) or function.

  Example (a static ``deterministic`` flag under ``jit``):
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> from flaxen.linen import partitioning as nn_partitioning
    >>> class Block(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x, deterministic: bool):
    ...     y = nn.Dense(2)(x)
    ...     return y if deterministic else 2 * y
    >>> RematBlock = nn_partitioning.remat(Block, static_argnums=(1,))
    >>> RematBlock.__name__
    'Core_remat_staticBlock'
    >>> v = jax.jit(lambda x: RematBlock().init(jax.random.key(0), x, False))(jnp.ones((1, 3)))
    >>> v['params']['Dense_0']['kernel'].shape
    (3, 2)

  Raises:
    NotImplementedError: when called, if ``concrete=True``.
  """
  defaults = dict(variables=variables, rngs=rngs, concrete=concrete, prevent_cse=prevent_cse,
                  static_argnums=static_argnums, policy=policy)
  if is_module_class(target):
    return _remat_class(target, _method_options(methods, defaults))
  if methods is not None:
    raise ValueError('methods should be None if target is a function')
  options = _method_options(None, defaults)['__call__']
  concrete = options.pop('concrete')
  positions = _positions(options.pop('static_argnums'))
  return _remat_each_call(target, positions, concrete, options)
