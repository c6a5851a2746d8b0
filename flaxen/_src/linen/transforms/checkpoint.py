"""Linen ``remat`` / ``checkpoint`` (one transform, class name ``Checkpoint<Class>``).

``static_argnums`` count ``self`` as argument 0 (so ``x`` in ``__call__(self, x,
train)`` is 1 and ``train`` is 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_transform
from flaxen._src.public import set_module


@set_module('flaxen.linen')
def checkpoint(
  target: Any,
  variables: Any = True,
  rngs: Any = True,
  concrete: bool = False,
  prevent_cse: bool = True,
  static_argnums: int | tuple[int, ...] = (),
  policy: Callable[..., bool] | None = None,
  methods: Any = None,
) -> Any:
  """Lifted ``jax.checkpoint``: recompute ``target``'s intermediates on the backward pass.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> CheckpointDense = nn.checkpoint(nn.Dense)
    >>> CheckpointDense.__name__
    'CheckpointDense'
  """
  if isinstance(static_argnums, int):
    static_argnums = (static_argnums,)
  static_argnums = tuple(i - 1 for i in static_argnums)
  return lift_transform(
    lift.checkpoint, target, variables=variables, rngs=rngs, concrete=concrete,
    prevent_cse=prevent_cse, static_argnums=static_argnums, policy=policy, methods=methods,
  )


remat = checkpoint
"""Alias of ``checkpoint`` (like ``jax.remat``)."""
