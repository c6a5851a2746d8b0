"""Linen ``vmap``, ``scan`` and ``remat_scan``: the mapping transforms, via the bridge.

Transformed classes are named ``Vmap<Class>``, ``Scan<Class>`` and
``Remat_scan<Class>``; a function ``fn(module, ...)`` is transformed in place.
``metadata_params`` (e.g. ``{nn.PARTITION_NAME: 'layers'}``) reaches the
``add_axis``/``remove_axis`` of boxed variables such as ``nn.Partitioned``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_transform
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict

_EMPTY: FrozenDict[Any, Any] = FrozenDict({})


@set_module('flaxen.linen')
def vmap(
  target: Any,
  variable_axes: Mapping[Any, Any] = _EMPTY,
  split_rngs: Mapping[Any, bool] = _EMPTY,
  in_axes: Any = 0,
  out_axes: Any = 0,
  axis_size: int | None = None,
  axis_name: str | None = None,
  spmd_axis_name: Any = None,
  metadata_params: Mapping[Any, Any] = _EMPTY,
  methods: Any = None,
) -> Any:
  """Lifted ``jax.vmap`` of a Module class or of a function taking a module first.

  ``variable_axes={'params': 0}`` with ``split_rngs={'params': True}`` gives one set
  of parameters per index; ``{'params': None}`` shares them.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> BatchDense = nn.vmap(nn.Dense, variable_axes={'params': 0},
    ...                      split_rngs={'params': True}, in_axes=0)
    >>> v = BatchDense(2).init(jax.random.key(0), jnp.ones((3, 4)))
    >>> v['params']['kernel'].shape
    (3, 4, 2)

  Raises:
    TransformTargetError: ``target`` is a Module instance.
  """
  return lift_transform(
    lift.vmap, target, variable_axes, split_rngs, methods=methods, in_axes=in_axes,
    out_axes=out_axes, axis_size=axis_size, axis_name=axis_name,
    spmd_axis_name=spmd_axis_name, metadata_params=dict(metadata_params),
  )


@set_module('flaxen.linen')
def scan(
  target: Any,
  variable_axes: Mapping[Any, Any] = _EMPTY,
  variable_broadcast: Any = False,
  variable_carry: Any = False,
  split_rngs: Mapping[Any, bool] = _EMPTY,
  in_axes: Any = 0,
  out_axes: Any = 0,
  length: int | None = None,
  reverse: bool = False,
  unroll: int = 1,
  data_transform: Callable[..., Any] | None = None,
  metadata_params: Mapping[Any, Any] = _EMPTY,
  methods: Any = None,
  _split_transpose: bool = False,
  check_constancy_invariants: bool = True,
) -> Any:
  """Lifted ``jax.lax.scan``: the body is ``(module, carry, *xs) -> (carry, ys)``.

  Example (scan over layers):
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> class Block(nn.Module):
    ...   @nn.compact
    ...   def __call__(self, x, _):
    ...     return x + nn.Dense(2)(x), None
    >>> Stack = nn.scan(Block, variable_axes={'params': 0},
    ...                 split_rngs={'params': True}, length=3)
    >>> v = Stack().init(jax.random.key(0), jnp.ones((1, 2)), None)
    >>> v['params']['Dense_0']['kernel'].shape
    (3, 2, 2)

  Raises:
    TransformTargetError: ``target`` is a Module instance.
  """
  return lift_transform(
    lift.scan, target, methods=methods, variable_axes=variable_axes,
    variable_broadcast=variable_broadcast, variable_carry=variable_carry,
    split_rngs=split_rngs, in_axes=in_axes, out_axes=out_axes, length=length,
    reverse=reverse, unroll=unroll, data_transform=data_transform,
    metadata_params=dict(metadata_params), _split_transpose=_split_transpose,
    check_constancy_invariants=check_constancy_invariants,
  )


@set_module('flaxen.linen')
def remat_scan(
  target: Any,
  lengths: tuple[int, ...] = (),
  policy: Callable[..., bool] | None = None,
  variable_broadcast: Any = False,
  variable_carry: Any = False,
  variable_axes: Mapping[Any, Any] = FrozenDict({True: 0}),
  split_rngs: Mapping[Any, bool] = FrozenDict({True: True}),
) -> Any:
  """Nested, rematerialized scans repeating ``target`` ``prod(lengths)`` times.

  The body is ``(module, carry) -> carry``: inputs and outputs are carries.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> Stack = nn.remat_scan(nn.Dense, lengths=(2, 3))
    >>> v = Stack(4, name='stack').init(jax.random.key(0), jnp.ones((1, 4)))
    >>> v['params']['kernel'].shape
    (2, 3, 4, 4)
  """
  return lift_transform(
    lift.remat_scan, target, lengths=tuple(lengths), policy=policy,
    variable_broadcast=variable_broadcast, variable_carry=variable_carry,
    variable_axes=variable_axes, split_rngs=split_rngs,
  )
