"""Per-example normalizations over spatial axes: ``GroupNorm`` and ``InstanceNorm``.

``GroupNorm`` splits the channels (last axis) into groups and normalizes each
group over all non-batch axes; exactly one of ``num_groups`` / ``group_size``
is given and must divide the channel count. ``InstanceNorm`` normalizes each
channel of each example over every axis except the batch (axis 0) and the
feature axes. Both learn ``scale`` / ``bias`` shaped like the features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import layer_error, normalize_axes
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import compute_stats, normalize
from flaxen._src.public import set_module

__all__ = ['GroupNorm', 'InstanceNorm']

Array = Any
Dtype = Any
Axes = int | Sequence[int]
Initializer = Callable[..., Any]


@set_module('flaxen.linen.normalization')
class GroupNorm(Module):
  """Group normalization (Wu & He, 2018) on channels-last inputs ``(batch, ..., channels)``.

  Attributes:
    num_groups: number of channel groups (default 32); pass ``None`` to use ``group_size``.
    group_size: channels per group (mutually exclusive with ``num_groups``).
    epsilon: added to the variance (default 1e-6).
    dtype: output dtype (default: inferred).
    param_dtype: dtype of ``scale`` / ``bias`` (default float32).
    use_bias: learn a bias (default True).
    use_scale: learn a scale (default True).
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.
    reduction_axes: axes to reduce (default: all but the batch axis; must end with the channels).
    axis_name: named axis to average the statistics over.
    axis_index_groups: device groups for that average.
    use_fast_variance: one-pass variance (default True).
    force_float32_reductions: statistics in at least float32 (default True).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.GroupNorm(num_groups=2)
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3, 4)))
    >>> variables['params']['scale'].shape
    (4,)
  """

  num_groups: int | None = 32
  group_size: int | None = None
  epsilon: float = 1e-6
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_bias: bool = True
  use_scale: bool = True
  bias_init: Initializer = initializers.zeros
  scale_init: Initializer = initializers.ones
  reduction_axes: Axes | None = None
  axis_name: str | None = None
  axis_index_groups: Any = None
  use_fast_variance: bool = True
  force_float32_reductions: bool = True

  @compact
  def __call__(self, x: Array, *, mask: Array | None = None) -> Array:
    """Normalizes ``x`` per example and channel group.

    Args:
      x: input of shape ``(batch, ..., channels)``.
      mask: boolean array like ``x``; only True entries enter the statistics.

    Returns:
      The normalized array, same shape as ``x``.
    """
    x = jnp.asarray(x)
    if x.ndim < 2:
      raise layer_error(self, f'expected an input of shape (batch, ..., channels), got shape '
                              f'{x.shape}.')
    if self.reduction_axes is not None:
      reduction_axes = normalize_axes(self, self.reduction_axes, x.ndim, 'reduction_axes')
    else:
      reduction_axes = tuple(range(1, x.ndim))
    if reduction_axes[-1] != x.ndim - 1:
      raise layer_error(self, f'reduction_axes {reduction_axes} must end with the channels '
                              f'axis {x.ndim - 1}.')
    if (self.num_groups is None) == (self.group_size is None):
      raise layer_error(self, 'either `num_groups` or `group_size` should be specified. If '
                              '`group_size` is to be specified, pass `num_groups=None` as '
                              'argument to override the default `num_groups` value of 32.')
    channels = x.shape[-1]
    if self.group_size is not None:
      if self.group_size <= 0 or channels % self.group_size:
        raise layer_error(self, f'number of channels ({channels}) is not a multiple of the '
                                f'group size ({self.group_size}).')
      num_groups = channels // self.group_size
    else:
      num_groups = self.num_groups
    if num_groups <= 0 or channels % num_groups:
      raise layer_error(self, f'number of groups ({num_groups}) does not divide the number of '
                              f'channels ({channels}).')
    group_size = channels // num_groups
    grouped = x.reshape(x.shape[:-1] + (num_groups, group_size))
    if mask is not None:
      mask = mask.reshape(mask.shape[:-1] + (num_groups, group_size))
    mean, var = compute_stats(grouped, list(reduction_axes[:-1]) + [-1], self.dtype,
                              self.axis_name, self.axis_index_groups,
                              use_fast_variance=self.use_fast_variance, mask=mask,
                              force_float32_reductions=self.force_float32_reductions)
    mean = jnp.repeat(mean, group_size, axis=-1)
    var = jnp.repeat(var, group_size, axis=-1)
    return normalize(self, x, mean, var, reduction_axes[:-1], (x.ndim - 1,), self.dtype,
                     self.param_dtype, self.epsilon, self.use_bias, self.use_scale,
                     self.bias_init, self.scale_init)


@set_module('flaxen.linen.normalization')
class InstanceNorm(Module):
  """Instance normalization (Ulyanov et al., 2016): per example and per feature.

  Attributes:
    epsilon: added to the variance (default 1e-6).
    dtype: output dtype (default: inferred).
    param_dtype: dtype of ``scale`` / ``bias`` (default float32).
    use_bias: learn a bias (default True).
    use_scale: learn a scale (default True).
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.
    feature_axes: the feature axes (default -1); may not include axis 0 (batch).
    axis_name: named axis to average the statistics over.
    axis_index_groups: device groups for that average.
    use_fast_variance: one-pass variance (default True).
    force_float32_reductions: statistics in at least float32 (default True).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.InstanceNorm()
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 5, 5, 3)))
    >>> variables['params']['bias'].shape
    (3,)
  """

  epsilon: float = 1e-6
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_bias: bool = True
  use_scale: bool = True
  bias_init: Initializer = initializers.zeros
  scale_init: Initializer = initializers.ones
  feature_axes: Axes = -1
  axis_name: str | None = None
  axis_index_groups: Any = None
  use_fast_variance: bool = True
  force_float32_reductions: bool = True

  @compact
  def __call__(self, x: Array, *, mask: Array | None = None) -> Array:
    """Normalizes ``x`` per example and feature.

    Args:
      x: input of shape ``(batch, ..., features)``.
      mask: boolean array like ``x``; only True entries enter the statistics.

    Returns:
      The normalized array, same shape as ``x``.
    """
    x = jnp.asarray(x)
    feature_axes = normalize_axes(self, self.feature_axes, x.ndim, 'feature_axes')
    if 0 in feature_axes:
      raise layer_error(self, 'the feature axes cannot include axis 0, which is the batch axis.')
    reduction_axes = tuple(i for i in range(1, x.ndim) if i not in feature_axes)
    mean, var = compute_stats(x, reduction_axes, self.dtype, self.axis_name,
                              self.axis_index_groups, use_fast_variance=self.use_fast_variance,
                              mask=mask, force_float32_reductions=self.force_float32_reductions)
    return normalize(self, x, mean, var, reduction_axes, feature_axes, self.dtype,
                     self.param_dtype, self.epsilon, self.use_bias, self.use_scale,
                     self.bias_init, self.scale_init)
