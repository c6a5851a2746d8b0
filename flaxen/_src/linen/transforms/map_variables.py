"""Linen ``map_variables`` (class name ``Map_variables<Class>``) and ``add_metadata_axis``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flaxen._src.core import lift, meta
from flaxen._src.linen.transforms.bridge import is_module_class, lift_transform
from flaxen._src.public import set_module
from flaxen._src.tree.frozen_dict import FrozenDict


def _identity(x: Any) -> Any:
  return x


@set_module('flaxen.linen')
def map_variables(
  target: Any,
  mapped_collections: Any = True,
  trans_in_fn: Callable[[Any], Any] = _identity,
  trans_out_fn: Callable[[Any], Any] = _identity,
  init: bool = False,
  mutable: bool = False,
  rngs: Any = True,
  variables: Any = True,
  methods: Any = None,
) -> Any:
  """Maps the ``mapped_collections`` of ``target`` before (and after) it runs.

  Example (a causal mask on a kernel):
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> Masked = nn.map_variables(nn.Dense, 'params',
    ...                           lambda v: jax.tree_util.tree_map(jnp.triu, v), init=True)
    >>> Masked.__name__
    'Map_variablesDense'

  Raises:
    ValueError: ``methods`` given for a function target.
  """
  if not is_module_class(target) and methods is not None:
    raise ValueError('methods should be None if target is a function')
  return lift_transform(
    lift.map_variables, target, mapped_collections, trans_in_fn,
    trans_out_fn, init, mutable, rngs, variables, methods=methods,
  )


@set_module('flaxen.linen')
def add_metadata_axis(
  target: Any,
  variable_axes: Mapping[Any, int] = FrozenDict({}),
  metadata_params: dict[Any, Any] | None = None,
) -> Any:
  """Adds an axis to the metadata boxes of ``target``'s variables (e.g. after a manual vmap).

  Boxes see ``remove_axis`` on the way in and ``add_axis`` on the way out, for
  each ``{collection: axis}`` of ``variable_axes``.
  """
  params = dict(metadata_params or {})
  for col, axis in variable_axes.items():
    # (mypy cannot infer a lambda whose default binds the loop variable: hence the ignores)
    target = map_variables(
      target, col,
      trans_in_fn=lambda x, a=axis: meta.remove_axis(x, a, params),  # type: ignore[misc]
      trans_out_fn=lambda x, a=axis: meta.add_axis(x, a, params),  # type: ignore[misc]
      mutable=True,
    )
  return target
