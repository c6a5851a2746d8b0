"""Functional normalization layers: ``batch_norm``, ``layer_norm``, ``group_norm``.

Statistics follow the house rule for normalization (DESIGN.md §5) and the reference's
``flax.core.nn.normalization``: the mean of ``x`` and the mean of ``x**2`` are taken from
the same input and the variance is their difference, ``E[x²] - E[x]²``. The learned
``scale`` is created before ``bias``; ``batch_norm`` keeps its running ``mean``/``var`` in
the collection named by ``kind`` (``'batch_stats'``), created before the parameters.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.nn import initializers as jinit

from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer

_PUBLIC = 'flaxen.core.nn.normalization'


@set_module(_PUBLIC)
def batch_norm(
  scope: Scope,
  x: Array,
  use_running_average: bool = False,
  axis: int | tuple[int, ...] = -1,
  momentum: float = 0.99,
  epsilon: float = 1e-5,
  dtype: Dtype = jnp.float32,
  bias: bool = True,
  scale: bool = True,
  bias_init: Initializer = jinit.zeros,
  scale_init: Initializer = jinit.ones,
  axis_name: Any = None,
  axis_index_groups: Any = None,
  kind: str = 'batch_stats',
) -> Array:
  """Normalizes ``x`` with batch statistics (or their running averages).

  Args:
    scope: the scope holding ``scale``/``bias`` and ``{kind}/mean``, ``{kind}/var``.
    x: the input (computed in float32).
    use_running_average: normalize with the stored averages instead of batch statistics.
    axis: the feature axes (not reduced).
    momentum: decay of the running averages.
    epsilon: added to the variance.
    dtype: the output dtype.
    bias: learn an offset.
    scale: learn a multiplier.
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.
    axis_name: a mapped axis over which the statistics are averaged (``lax.pmean``).
    axis_index_groups: groups of that axis, as ``lax.pmean`` takes them.
    kind: the collection of the running averages.

  Returns:
    The normalized array, in ``dtype``. The running averages are updated (except on the
    call that creates them) when ``use_running_average`` is false and ``kind`` is mutable.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init, nn
    >>> y, v = init(nn.batch_norm)(jax.random.key(0), jnp.arange(6.).reshape(3, 2))
    >>> sorted(v), v['batch_stats']['mean'].shape
    (['batch_stats', 'params'], (2,))
  """
  x = jnp.asarray(x, jnp.float32)
  axes = axis if isinstance(axis, tuple) else (axis,)
  features = {a + x.ndim if a < 0 else a for a in axes}
  reduced = tuple(d for d in range(x.ndim) if d not in features)

  def batch_mean(v):
    m = jnp.mean(v, reduced, keepdims=True)
    if axis_name is None:
      return m
    return lax.pmean(m, axis_name=axis_name, axis_index_groups=axis_index_groups)

  mean = batch_mean(x)
  stats_shape = jnp.squeeze(mean).shape
  var = batch_mean(jnp.square(x)) - jnp.square(mean)

  creating = not scope.has_variable(kind, 'mean')
  running_mean = scope.variable(kind, 'mean', jnp.zeros, stats_shape)
  running_var = scope.variable(kind, 'var', jnp.ones, stats_shape)
  if use_running_average:
    mean = jnp.reshape(running_mean.value, mean.shape)
    var = jnp.reshape(running_var.value, var.shape)
  elif not creating:
    decay = 1.0 - momentum
    old_mean, old_var = running_mean.value, running_var.value
    running_mean.value = old_mean + decay * (jnp.squeeze(mean) - old_mean)
    running_var.value = old_var + decay * (jnp.squeeze(var) - old_var)

  centred = x - mean
  factor = lax.rsqrt(var + epsilon)
  if scale:
    factor = factor * scope.param('scale', scale_init, stats_shape).reshape(mean.shape)
  y = centred * factor
  if bias:
    y = y + scope.param('bias', bias_init, stats_shape).reshape(mean.shape)
  return jnp.asarray(y, dtype)


@set_module(_PUBLIC)
def layer_norm(
  scope: Scope,
  x: Array,
  epsilon: float = 1e-6,
  dtype: Dtype = jnp.float32,
  bias: bool = True,
  scale: bool = True,
  bias_init: Initializer = jinit.zeros,
  scale_init: Initializer = jinit.ones,
) -> Array:
  """Normalizes each example over its last axis (mean 0, variance 1), then scales and shifts.

  Args:
    scope: the scope holding ``scale`` and ``bias`` (shape ``(features,)``).
    x: the input.
    epsilon: added to the variance.
    dtype: dtype the parameters are cast to.
    bias: learn an offset.
    scale: learn a multiplier.
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.

  Returns:
    The normalized input, same shape.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init, nn
    >>> y, _ = init(nn.layer_norm)(jax.random.key(0), jnp.array([[1., 2., 3.]]))
    >>> bool(abs(y.mean()) < 1e-6)
    True
  """
  n = x.shape[-1]
  # The (features,) parameters meet (..., 1) statistics by rank promotion, as in the
  # reference (same trace); allowed here even under jax_numpy_rank_promotion='raise'.
  with jax.numpy_rank_promotion('allow'):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(lax.square(x), axis=-1, keepdims=True) - lax.square(mean)
    factor = lax.rsqrt(var + epsilon)
    if scale:
      factor = factor * jnp.asarray(scope.param('scale', scale_init, (n,)), dtype)
    y = (x - mean) * factor
    if bias:
      y = y + jnp.asarray(scope.param('bias', bias_init, (n,)), dtype)
  return y


@set_module(_PUBLIC)
def group_norm(
  scope: Scope,
  x: Array,
  num_groups: int | None = 32,
  group_size: int | None = None,
  epsilon: float = 1e-6,
  dtype: Dtype = jnp.float32,
  bias: bool = True,
  scale: bool = True,
  bias_init: Initializer = jinit.zeros,
  scale_init: Initializer = jinit.ones,
) -> Array:
  """Group normalization: statistics over groups of channels and all non-batch axes.

  Give either ``num_groups`` or ``group_size`` (the other must be ``None``).

  Args:
    scope: the scope holding ``scale`` and ``bias`` (shape ``(1, ..., 1, channels)``).
    x: the input ``(batch, ..., channels)`` (computed in float32).
    num_groups: the number of channel groups.
    group_size: the number of channels per group.
    epsilon: added to the variance.
    dtype: the output dtype.
    bias: learn an offset.
    scale: learn a multiplier.
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.

  Returns:
    The normalized input, same shape, in ``dtype``.

  Raises:
    ValueError: both or neither of ``num_groups``/``group_size`` are given, or the
      channels are not a multiple of ``group_size``.
  """
  x = jnp.asarray(x, jnp.float32)
  if (num_groups is None) == (group_size is None):
    raise ValueError(
      'Either `num_groups` or `group_size` should be specified, but not both of them.'
    )
  channels = x.shape[-1]
  if group_size is not None:
    if channels % group_size:
      raise ValueError(
        f'Number of channels ({channels}) is not multiple of the group size ({group_size}).'
      )
    num_groups = channels // group_size
  assert num_groups is not None  # given, or derived from group_size above

  original_shape = x.shape
  grouped = x.reshape(x.shape[:-1] + (num_groups, channels // num_groups))
  # every axis but the batch axis and the group axis
  reduce = [*range(1, grouped.ndim - 2), grouped.ndim - 1]
  mean = jnp.mean(grouped, axis=reduce, keepdims=True)
  var = jnp.mean(jnp.square(grouped), axis=reduce, keepdims=True) - jnp.square(mean)
  y = ((grouped - mean) * lax.rsqrt(var + epsilon)).reshape(original_shape)

  param_shape = (1,) * (len(original_shape) - 1) + (original_shape[-1],)
  if scale:
    y = y * scope.param('scale', scale_init, param_shape)
  if bias:
    y = y + scope.param('bias', bias_init, param_shape)
  return y.astype(dtype)
