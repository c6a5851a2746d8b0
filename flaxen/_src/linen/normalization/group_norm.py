"""Per-example normalizations over spatial axes: ``GroupNorm`` and ``InstanceNorm``.

``GroupNorm`` splits the channels (last axis) into groups and normalizes each
group over all non-batch axes; exactly one of ``num_groups`` / ``group_size``
is given and must divide the channel count. ``InstanceNorm`` normalizes each
channel of each example over every axis except the batch (axis 0) and the
feature axes. Both learn ``scale`` / ``bias`` shaped like the features.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import (
  MODULO_BY_ZERO,
  BadLayerInput,
  canonicalize_axes,
  layer_error,
  layer_message,
)
from flaxen._src.linen.dtypes import as_array
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import affine, layer_stats
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Axes, Dtype, Initializer

__all__ = ['GroupNorm', 'InstanceNorm']

_EITHER_GROUPS_OR_SIZE = (
  'Either `num_groups` or `group_size` should be specified. If `group_size` is to be '
  'specified, pass `num_groups=None` as argument to override the default `num_groups` '
  'value of 32.')


def _group_reduction_axes(mdl: Any, ndim: int) -> tuple[int, ...]:
  """The canonical reduction axes; the last one must be the channel axis."""
  requested = (mdl.reduction_axes if mdl.reduction_axes is not None
               else [*range(1, ndim - 1), -1])
  axes = canonicalize_axes(ndim, requested)
  if ndim == 0:
    raise layer_error(mdl, MODULO_BY_ZERO, ZeroDivisionError,
                      hint='GroupNorm needs an input with a channel axis; got a scalar')
  if axes[-1] != ndim - 1:
    raise layer_error(mdl, 'The reduction axes must include the final dimension as this is '
                           'assumed to be the feature axis.', hint=f'got reduction_axes {axes}')
  return axes


def _num_groups(mdl: Any, channels: int) -> int:
  """Groups from ``num_groups`` or ``group_size`` (exactly one is set); they must tile the channels."""
  if (mdl.num_groups is None) == (mdl.group_size is None):
    raise layer_error(mdl, _EITHER_GROUPS_OR_SIZE)
  if mdl.group_size is not None:
    if mdl.group_size == 0:
      raise layer_error(mdl, MODULO_BY_ZERO, ZeroDivisionError, hint='group_size is 0')
    if channels % mdl.group_size:
      raise layer_error(mdl, f'Number of channels ({channels}) is not multiple of the group '
                             f'size ({mdl.group_size}).')
    groups = channels // mdl.group_size
  else:
    groups = mdl.num_groups
    if not isinstance(groups, int):
      raise BadLayerInput(layer_message(mdl, f'num_groups must be an int, got {groups!r}'))
  if groups <= 0 or channels % groups:
    raise layer_error(mdl, f'Number of groups ({groups}) does not divide the number of '
                           f'channels ({channels}).')
  return groups


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
    x = as_array(x)
    axes = _group_reduction_axes(self, x.ndim)
    channels = x.shape[-1]
    groups = _num_groups(self, channels)
    size = channels // groups

    def split_channels(a: Array) -> Array:
      return a.reshape(a.shape[:-1] + (groups, size))

    if mask is not None:
      mask = split_channels(mask)
    # Statistics per (example, group): over the non-channel reduction axes and
    # the channels inside each group, then repeated back onto every channel.
    mean, var = layer_stats(self, split_channels(x), [*axes[:-1], -1], mask=mask)
    mean, var = (jnp.repeat(v, size, axis=-1) for v in (mean, var))
    return affine(self, x, mean, var, reduction_axes=axes[:-1], feature_axes=(-1,))


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
    x = as_array(x)
    feature_axes = canonicalize_axes(x.ndim, self.feature_axes)
    if 0 in feature_axes:
      raise layer_error(self, 'The channel axes cannot include the leading dimension as this '
                              'is assumed to be the batch axis.',
                        hint=f'got feature_axes {self.feature_axes!r}')
    reduction_axes = [ax for ax in range(1, x.ndim) if ax not in feature_axes]
    mean, var = layer_stats(self, x, reduction_axes, mask=mask)
    return affine(self, x, mean, var, reduction_axes=reduction_axes, feature_axes=feature_axes)
