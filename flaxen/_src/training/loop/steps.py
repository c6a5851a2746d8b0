"""The jitted train and eval steps of the loop, and ``evaluate``.

A ``StepSpec`` (hashable: the loss and metric functions, the keyword arguments
of training and evaluation calls, the carried collections and the RNG streams)
is the static argument of both steps, so equal specs share compiled code
across ``fit`` calls and a resumed run does not compile again.

Train step: the model is applied with its training keyword arguments, the step's
RNGs and the carried collections mutable; the loss is the (weighted) mean of the
per-example losses; ``apply_gradients`` updates ``params``/``opt_state`` and
stores the new collections. It returns the batch's ``loss``, metrics,
``grad_norm`` (global norm before any clipping), ``count`` (examples, or the sum
of weights) and ``finite`` (loss and gradient norm are finite).

Eval step: weighted *sums* of the loss and metrics and the batch's ``count``;
``evaluate`` adds them up over all batches in float64 on the host, so a padded
last batch counts each real example exactly once.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.training.loop import objectives
from flaxen._src.training.loop.batches import BatchSource, split_batch
from flaxen._src.training.loop.state import ModelCall, step_rngs

# parameter name -> (value when training, value when evaluating)
_MODE_FLAGS = {'train': (True, False), 'training': (True, False),
               'deterministic': (False, True)}


@dataclasses.dataclass(frozen=True)
class StepSpec:
  """Everything static about the train and eval steps (see the module docstring)."""

  loss: Any
  metrics: tuple = ()
  train_kwargs: tuple = ()
  eval_kwargs: tuple = ()
  carried: tuple = ()
  streams: tuple = ()


def mode_kwargs(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
  """Training and evaluation keyword arguments guessed from ``model.__call__``.

  A ``train`` or ``training`` parameter gets True/False, a ``deterministic`` one
  False/True; a model with none of them gets no keyword argument.
  """
  try:
    params = inspect.signature(type(model).__call__).parameters
  except (TypeError, ValueError):
    return {}, {}
  for name, (when_training, when_evaluating) in _MODE_FLAGS.items():
    if name in params:
      return {name: when_training}, {name: when_evaluating}
  return {}, {}


def frozen_kwargs(kwargs: Mapping[str, Any], what: str) -> tuple:
  """``kwargs`` as a sorted, hashable tuple of items.

  Raises:
    TypeError: a value is not hashable (it becomes part of a jit cache key).
  """
  items = tuple(sorted(dict(kwargs).items()))
  try:
    hash(items)
  except TypeError as e:
    raise TypeError(f'{what} values must be hashable (they are static arguments of the '
                    f'jitted step): {e}') from None
  return items


def _per_example(values: Any, what: str) -> Any:
  values = jnp.asarray(values)
  if values.ndim > 1:
    raise ValueError(f'the {what} function must return one value per example (shape '
                     f'[batch]) or a scalar batch mean, got shape {values.shape}')
  return values


def _batch_count(targets: Any, weights: Any) -> Any:
  if weights is not None:
    return jnp.sum(jnp.asarray(weights, jnp.float32))
  leaves = jax.tree_util.tree_leaves(targets)
  return jnp.asarray(jnp.shape(leaves[0])[0] if leaves else 1, jnp.float32)


def _mean(values: Any, weights: Any, what: str) -> Any:
  values = _per_example(values, what)
  if values.ndim == 0:
    if weights is not None:
      raise ValueError(f'the {what} function returned a scalar, but the batch has weights: '
                       f'return one value per example instead')
    return values
  if weights is None:
    return jnp.mean(values)
  weights = jnp.asarray(weights, values.dtype)
  return jnp.sum(values * weights) / jnp.sum(weights)


def _sum(values: Any, weights: Any, count: Any, what: str) -> Any:
  values = _per_example(values, what)
  if values.ndim == 0:
    return _mean(values, weights, what) * count
  if weights is None:
    return jnp.sum(values)
  return jnp.sum(values * jnp.asarray(weights, values.dtype))


def _global_norm(tree: Any) -> Any:
  squares = [jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]
  return jnp.sqrt(sum(squares)) if squares else jnp.zeros((), jnp.float32)


def _apply(apply_fn: Any, variables: Any, args: tuple, kwargs: tuple, carried: tuple,
           rngs: Any) -> tuple[Any, dict[str, Any]]:
  extra = {'rngs': rngs} if rngs else {}
  if carried:
    outputs, updates = apply_fn(variables, *args, mutable=list(carried), **extra,
                                **dict(kwargs))
    return outputs, dict(updates)
  return apply_fn(variables, *args, **extra, **dict(kwargs)), {}


@functools.partial(jax.jit, static_argnums=0)
def train_step(spec: StepSpec, state: Any, batch: Any) -> tuple[Any, dict[str, Any]]:
  """One optimizer step; returns ``(new_state, batch metrics)`` (module docstring)."""
  args, targets, weights = split_batch(batch)
  rngs = step_rngs(state.rng, state.step, spec.streams)

  def objective(params):
    variables = {'params': params, **state.model_state}
    outputs, updates = _apply(state.apply_fn, variables, args, spec.train_kwargs,
                              spec.carried, rngs)
    return _mean(spec.loss(outputs, targets), weights, 'loss'), (outputs, updates)

  (loss, (outputs, updates)), grads = jax.value_and_grad(objective, has_aux=True)(state.params)
  outputs = jax.lax.stop_gradient(outputs)
  metrics = {'loss': loss}
  for name, fn in spec.metrics:
    metrics[name] = _mean(fn(outputs, targets), weights, f'metric {name!r}')
  grad_norm = _global_norm(grads)
  metrics['grad_norm'] = grad_norm
  metrics['count'] = _batch_count(targets, weights)
  metrics['finite'] = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
  new_state = state.apply_gradients(grads=grads, model_state={**state.model_state, **updates})
  return new_state, metrics


@functools.partial(jax.jit, static_argnums=(0, 1))
def eval_step(spec: StepSpec, apply_fn: Any, variables: Any, batch: Any) -> dict[str, Any]:
  """Weighted sums of loss and metrics over one batch, and the batch's ``count``."""
  args, targets, weights = split_batch(batch)
  outputs = _apply(apply_fn, variables, args, spec.eval_kwargs, (), None)[0]
  count = _batch_count(targets, weights)
  sums = {'loss': _sum(spec.loss(outputs, targets), weights, count, 'loss')}
  for name, fn in spec.metrics:
    sums[name] = _sum(fn(outputs, targets), weights, count, f'metric {name!r}')
  sums['count'] = count
  return sums


def run_eval(spec: StepSpec, apply_fn: Any, variables: Any, source: BatchSource,
             epoch: int) -> dict[str, float]:
  """Means of the loss and metrics over every batch of ``source`` (float64 sums)."""
  sums = [eval_step(spec, apply_fn, variables, batch) for batch in source.epoch(epoch)]
  if not sums:
    raise ValueError(f'{source.what} yielded no batch')
  host = jax.device_get(sums)
  totals = {k: float(np.sum([np.float64(s[k]) for s in host])) for k in host[0]}
  count = totals.pop('count')
  return {k: v / count for k, v in totals.items()}


def _model_of(apply_fn: Any) -> Any:
  if isinstance(apply_fn, ModelCall):
    return apply_fn.model
  return getattr(apply_fn, '__self__', None)


@set_module('flaxen.training.loop')
def evaluate(state: Any, data: Any, *, loss: Any = 'cross_entropy',
             metrics: Mapping[str, Any] | None = None,
             eval_kwargs: Mapping[str, Any] | None = None) -> dict[str, float]:
  """The mean loss and metrics of a trained state over all batches of ``data``.

  Args:
    state: a ``FitState`` (or any ``TrainState`` whose ``apply_fn`` is
      ``model.apply``; its mutable collections then default to none).
    data: a batch source that can be read again (a list of batches, a callable
      returning them, ``ArrayBatches``); see ``flaxen.training.loop``.
    loss: ``'cross_entropy'``, ``'mse'`` or a function ``(outputs, targets) ->
      per-example losses``.
    metrics: ``{name: function}`` like ``loss``; default: those of a named loss
      (``accuracy`` for cross-entropy).
    eval_kwargs: keyword arguments of the model call; default: ``train=False``
      (or ``training=False`` / ``deterministic=True``) when the model takes it.

  Returns:
    ``{'loss': ..., <metric>: ...}``: weighted means over every example.

  Example:
    >>> import jax, jax.numpy as jnp, optax
    >>> from flaxen import linen as nn
    >>> from flaxen.training.loop import ArrayBatches, evaluate, fit
    >>> x = jnp.eye(4)
    >>> y = jnp.arange(4)
    >>> result = fit(nn.Dense(4), optax.adam(0.1), ArrayBatches(x, y, 4), epochs=30)
    >>> evaluate(result.state, ArrayBatches(x, y, 3, shuffle=False))['accuracy']
    1.0
  """
  loss_fn, metric_fns = objectives.resolve(loss, metrics)
  if eval_kwargs is None:
    eval_kwargs = mode_kwargs(_model_of(state.apply_fn))[1]
  spec = StepSpec(loss=loss_fn, metrics=metric_fns,
                  eval_kwargs=frozen_kwargs(eval_kwargs, 'eval_kwargs'))
  variables = {'params': state.params, **(getattr(state, 'model_state', None) or {})}
  source = BatchSource(data, None, 'data', reiterable=True)
  return run_eval(spec, state.apply_fn, variables, source, 1)


def learning_rate(opt_state: Any) -> Any:
  """The current learning rate when ``tx`` was built with ``optax.inject_hyperparams``.

  Returns None when no optimizer state in ``opt_state`` exposes one.
  """
  stack = [opt_state]
  while stack:
    node = stack.pop()
    hyper = getattr(node, 'hyperparams', None)
    if isinstance(hyper, Mapping) and 'learning_rate' in hyper:
      return hyper['learning_rate']
    if isinstance(node, (tuple, list)):
      stack.extend(reversed(node))
  return None
