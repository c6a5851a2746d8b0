"""``FitState``: what the training loop carries from step to step and checkpoints.

A ``FitState`` is a ``TrainState`` (``step``, ``params``, ``opt_state``; static
``apply_fn`` and ``tx``) plus:
  * ``model_state``: the model's mutable collections other than ``params``
    (``{'batch_stats': ...}`` for BatchNorm; ``{}`` for most models);
  * ``rng``: the base key of the per-step RNGs. Step ``s`` uses
    ``fold_in(rng, s)`` and stream ``i`` of it ``fold_in(that, i)``, so the random
    numbers of a step depend on the step alone and a resumed run draws exactly
    the dropout masks an uninterrupted one would;
  * ``epoch``: the number of finished epochs.

All five leaves are saved in a checkpoint (``{'step', 'params', 'opt_state',
'model_state', 'rng', 'epoch'}``). ``create_state`` initializes the model with
``{'params': PRNGKey(seed), <stream i>: fold_in(PRNGKey(seed), i + 1)}`` and the
model's evaluation-mode keyword arguments; ``step`` and ``epoch`` are int32
arrays, as a restored checkpoint's are, so fresh and resumed states share one
compiled train step.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from flaxen._src.public import set_module
from flaxen._src.training.train_state import TrainState
from flaxen._src.tree import struct

#: collections ``init`` may create that the loop neither trains nor carries
NOT_CARRIED = ('params', 'intermediates')


@dataclasses.dataclass(frozen=True)
class ModelCall:
  """``model.apply`` as a value: equal for equal models, so jitted steps are reused.

  (Bound methods compare their ``self`` by identity, so two equal models would
  each compile their own steps.)
  """

  model: Any

  def __call__(self, variables: Any, *args: Any, **kwargs: Any) -> Any:
    return self.model.apply(variables, *args, **kwargs)


@set_module('flaxen.training.loop')
class FitState(TrainState):
  """The state ``fit`` trains and checkpoints: a ``TrainState`` with model state and RNG.

  Attributes:
    model_state: mutable collections other than ``params`` (e.g. ``batch_stats``).
    rng: base PRNG key of the per-step RNG streams (e.g. ``dropout``).
    epoch: number of finished epochs.
  """

  model_state: Any = struct.field(pytree_node=True, default=None)
  rng: Any = struct.field(pytree_node=True, default=None)
  epoch: Any = struct.field(pytree_node=True, default=None)

  def variables(self) -> dict[str, Any]:
    """``{'params': ..., **model_state}``: what ``model.apply`` takes.

    Example:
      >>> import jax, jax.numpy as jnp, optax
      >>> from flaxen import linen as nn
      >>> from flaxen.training.loop import fit
      >>> data = [(jnp.ones((4, 3)), jnp.zeros((4,), jnp.int32))]
      >>> state = fit(nn.Dense(2), optax.sgd(0.1), data, epochs=1).state
      >>> nn.Dense(2).apply(state.variables(), jnp.ones((1, 3))).shape
      (1, 2)
    """
    return {'params': self.params, **(self.model_state or {})}


def step_rngs(rng: Any, step: Any, streams: tuple[str, ...]) -> dict[str, Any]:
  """The RNG of every stream for ``step`` (see the module docstring)."""
  key = jax.random.fold_in(rng, step)
  return {name: jax.random.fold_in(key, i) for i, name in enumerate(streams)}


def init_rngs(seed: int, streams: tuple[str, ...]) -> dict[str, Any]:
  base = jax.random.PRNGKey(seed)
  rngs = {'params': base}
  for i, name in enumerate(streams):
    if name != 'params':
      rngs[name] = jax.random.fold_in(base, i + 1)
  return rngs


@functools.partial(jax.jit, static_argnums=(0, 1))
def _init(model: ModelCall, kwargs: tuple, rngs: Any, args: tuple) -> Any:
  # One compiled computation instead of one dispatch per initializer op, cached
  # per (hashable) model; the values are those of ``model.init`` run eagerly.
  return model.model.init(rngs, *args, **dict(kwargs))


def carried_collections(model: Any, rngs: Any, args: tuple, kwargs: tuple) -> tuple[str, ...]:
  """Collections ``init`` creates that the loop carries (tracing only, no compile)."""
  shapes = jax.eval_shape(functools.partial(model.init, **dict(kwargs)), rngs, *args)
  return tuple(sorted(c for c in shapes if c not in NOT_CARRIED))


def create_state(model: Any, tx: optax.GradientTransformation, args: tuple, *, seed: int,
                 init_kwargs: tuple, streams: tuple[str, ...],
                 carried: tuple[str, ...]) -> FitState:
  """A fresh ``FitState`` at step 0 (see the module docstring)."""
  rngs = init_rngs(seed, streams)
  variables = _init(ModelCall(model), init_kwargs, rngs, args)
  if not isinstance(variables, Mapping):
    raise TypeError(f'model.init returned {type(variables).__name__}, not a mapping of '
                    f'collections')
  state = FitState.create(
    apply_fn=ModelCall(model), params=variables.get('params', {}), tx=tx,
    model_state={name: variables[name] for name in carried},
    rng=jax.random.fold_in(jax.random.PRNGKey(seed), 0),
    epoch=jnp.zeros((), jnp.int32),
  )
  return state.replace(step=jnp.zeros((), jnp.int32))
