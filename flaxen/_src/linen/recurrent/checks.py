"""Input validation of the recurrent cells.

A cell's carry and its per-step input must agree: the carry's last axis is the
cell's ``features`` and the batch axes (everything before the feature axes)
of carry and input are the same. The reference would silently build
parameters of the carry's size or broadcast mismatched batches; flaxen raises
``BadLayerInput`` (a ``ValueError`` and an ``AssertionError``) naming the
cell's path instead.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from flaxen._src.linen.attention.checks import BadLayerInput, module_where

Array = Any


def check_step(cell: Any, carry_parts: tuple[Array, ...], inputs: Array,
               num_feature_axes: int = 1) -> None:
  """Validates one step ``cell(carry, inputs)``; raises ``BadLayerInput``."""
  where = module_where(cell)
  features = getattr(cell, 'features', None)
  if jnp.ndim(inputs) < num_feature_axes:
    raise BadLayerInput(
      f'{where}: inputs must have at least {num_feature_axes} feature axes; got shape '
      f'{jnp.shape(inputs)}.'
    )
  batch = jnp.shape(inputs)[: jnp.ndim(inputs) - num_feature_axes]
  for part in carry_parts:
    shape = jnp.shape(part)
    if len(shape) < num_feature_axes or (features is not None and shape[-1] != features):
      raise BadLayerInput(
        f'{where}: carry arrays must end with features={features}; got a carry of shape '
        f'{shape}. Build it with cell.initialize_carry(rng, inputs.shape).'
      )
    if shape[: len(shape) - num_feature_axes] != batch:
      raise BadLayerInput(
        f'{where}: carry batch axes {shape[: len(shape) - num_feature_axes]} do not match the '
        f'inputs batch axes {batch} (carry {shape}, inputs {jnp.shape(inputs)}).'
      )


def split_pair(cell: Any, carry: Any) -> tuple[Array, Array]:
  """Unpacks an ``(c, h)`` carry, with a clear error when it is not a pair."""
  if not isinstance(carry, (tuple, list)) or len(carry) != 2:
    raise BadLayerInput(
      f'{module_where(cell)}: the carry must be a (c, h) pair of arrays; got '
      f'{type(carry).__name__}. Build it with cell.initialize_carry(rng, inputs.shape).'
    )
  return carry[0], carry[1]
