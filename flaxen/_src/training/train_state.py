"""``TrainState``: the pytree a training loop carries from step to step.

A ``TrainState`` holds the step counter, the parameters and the Optax optimizer
state (pytree children, so it passes through ``jit``/``pmap`` and serializes to
``{'step', 'params', 'opt_state'}``), plus the model's ``apply_fn`` and the Optax
transformation ``tx`` as static fields (kept out of the leaves and out of
checkpoints). Subclasses add fields (``batch_stats``, ``key``, ``metrics``, ...)
that ``create`` fills from keyword arguments.

Invariants:
  * ``create`` starts at ``step=0`` with ``opt_state = tx.init(params)``;
  * ``apply_gradients`` never mutates: it returns a new state with ``step + 1``;
  * when ``params`` holds the ``'_overwrite_with_gradient'`` collection (next to a
    ``'params'`` collection), only ``'params'`` is optimized and the other
    collection is replaced by its gradient, as in the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax
from typing_extensions import Self

from flaxen._src.public import set_module
from flaxen._src.tree import struct

# The FP8 layers' meta collection (``flaxen.linen.fp8_ops.OVERWRITE_WITH_GRADIENT``, the same
# string; training may not import linen, a test keeps the two equal). Public here as in the
# reference's ``flax.training.train_state``.
OVERWRITE_WITH_GRADIENT = '_overwrite_with_gradient'


def _split_overwrite(tree: Any) -> tuple[Any, bool]:
  """Returns (the part the optimizer sees, whether the overwrite collection is used)."""
  try:
    has = OVERWRITE_WITH_GRADIENT in tree
  except TypeError:
    return tree, False
  return (tree['params'], True) if has else (tree, False)


@set_module('flaxen.training.train_state')
class TrainState(struct.PyTreeNode):
  """Train state for the common case of one model and one Optax optimizer.

  Attributes:
    step: number of ``apply_gradients`` calls so far (starts at 0).
    apply_fn: usually ``model.apply``; static (not a pytree leaf).
    params: the parameters updated by ``tx`` and used by ``apply_fn``.
    tx: an Optax ``GradientTransformation``; static.
    opt_state: the state of ``tx``.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from flaxen.training import train_state
    >>> state = train_state.TrainState.create(
    ...     apply_fn=lambda v, x: x @ v['params']['w'],
    ...     params={'w': jnp.ones((2, 1))}, tx=optax.sgd(0.1))
    >>> grads = jax.tree_util.tree_map(jnp.ones_like, state.params)
    >>> state = state.apply_gradients(grads=grads)
    >>> state.step, state.params['w'].ravel().tolist()
    (1, [0.8999999761581421, 0.8999999761581421])
  """

  step: Any
  apply_fn: Callable = struct.field(pytree_node=False)
  params: Any = struct.field(pytree_node=True)
  tx: optax.GradientTransformation = struct.field(pytree_node=False)
  opt_state: optax.OptState = struct.field(pytree_node=True)

  def apply_gradients(self, *, grads: Any, **kwargs: Any) -> Self:
    """Takes one optimizer step.

    Args:
      grads: gradients with the structure of ``params``.
      **kwargs: further fields to ``replace`` in the returned state.

    Returns:
      A new state with ``step + 1``, the updated ``params`` and ``opt_state``,
      and ``kwargs`` applied.
    """
    grads_opt, overwrite = _split_overwrite(grads)
    params_opt = self.params['params'] if overwrite else self.params
    updates, opt_state = self.tx.update(grads_opt, self.opt_state, params_opt)
    new_params = optax.apply_updates(params_opt, updates)
    if overwrite:
      new_params = {'params': new_params, OVERWRITE_WITH_GRADIENT: grads[OVERWRITE_WITH_GRADIENT]}
    return self.replace(step=self.step + 1, params=new_params, opt_state=opt_state, **kwargs)

  @classmethod
  def create(cls, *, apply_fn: Callable, params: Any, tx: optax.GradientTransformation,
             **kwargs: Any) -> Self:
    """Builds a state at ``step=0`` with ``opt_state = tx.init(params)``.

    Args:
      apply_fn: the model's apply function.
      params: the initial parameters.
      tx: the Optax transformation.
      **kwargs: values of the extra fields of a subclass.
    """
    params_opt, _ = _split_overwrite(params)
    return cls(
      step=0, apply_fn=apply_fn, params=params, tx=tx, opt_state=tx.init(params_opt), **kwargs
    )
