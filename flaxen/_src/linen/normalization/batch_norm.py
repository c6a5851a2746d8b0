"""``BatchNorm``: normalization with batch statistics in training, running averages in eval.

Variables: ``batch_stats/mean`` (zeros) and ``batch_stats/var`` (ones), float32
(``param_dtype`` when ``force_float32_reductions=False``), shaped like the feature axes and created *before* the params ``scale`` /
``bias`` (so ``batch_stats`` comes first in ``init``'s result).

Invariants:
  * ``use_running_average`` comes from the field or the call (``merge_param``:
    exactly one of them must be set);
  * training (``use_running_average=False``) normalizes with the statistics of
    the batch over every non-feature axis (averaged over ``axis_name`` when
    given) and updates ``ra = momentum * ra + (1 - momentum) * batch``; the
    update needs ``mutable=['batch_stats']``;
  * during ``init`` the running averages are *not* updated and ``axis_name``
    is ignored (so init works outside ``pmap``/``vmap``);
  * ``mask`` (call keyword) restricts the statistics to the True entries.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import canonicalize_axes
from flaxen._src.linen.dtypes import as_array
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.helpers import merge_param
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import affine, feature_layout, layer_stats
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Axes, Dtype, Initializer

__all__ = ['BatchNorm']


@set_module('flaxen.linen.normalization')
class BatchNorm(Module):
  """Batch normalization (Ioffe & Szegedy, 2015).

  Attributes:
    use_running_average: eval mode (use stored statistics) if True; may instead
      be passed at call time.
    axis: the feature axis or axes (default -1).
    momentum: decay of the running averages (default 0.99; PyTorch's 0.1 is 0.9 here).
    epsilon: added to the variance (default 1e-5).
    dtype: output dtype (default: inferred from input and params).
    param_dtype: dtype of ``scale`` / ``bias`` (default float32).
    use_bias: learn a bias (default True).
    use_scale: learn a scale (default True).
    bias_init: initializer of ``bias`` (zeros).
    scale_init: initializer of ``scale`` (ones).
    axis_name: named axis to average the batch statistics over.
    axis_index_groups: groups of devices for that average, e.g. ``[[0, 1], [2, 3]]``.
    use_fast_variance: one-pass ``E[x²] - E[x]²`` variance (default True).
    force_float32_reductions: compute statistics in at least float32 (default True).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> bn = nn.BatchNorm(use_running_average=False, momentum=0.9)
    >>> x = jnp.arange(8.0).reshape(4, 2)
    >>> variables = bn.init(jax.random.PRNGKey(0), x)
    >>> y, updates = bn.apply(variables, x, mutable=['batch_stats'])
    >>> updates['batch_stats']['mean'].round(3)  # 0.9 * 0 + 0.1 * batch mean
    Array([0.3, 0.4], dtype=float32)
  """

  use_running_average: bool | None = None
  axis: Axes = -1
  momentum: float = 0.99
  epsilon: float = 1e-5
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_bias: bool = True
  use_scale: bool = True
  bias_init: Initializer = initializers.zeros
  scale_init: Initializer = initializers.ones
  axis_name: str | None = None
  axis_index_groups: Any = None
  use_fast_variance: bool = True
  force_float32_reductions: bool = True

  @compact
  def __call__(self, x: Array, use_running_average: bool | None = None, *,
               mask: Array | None = None) -> Array:
    """Normalizes ``x``.

    Args:
      x: input array; statistics are taken over every axis except ``axis``.
      use_running_average: overrides/completes the field of the same name.
      mask: boolean array like ``x``; only True entries enter the statistics.

    Returns:
      The normalized array, same shape as ``x``.
    """
    use_running_average = merge_param('use_running_average', self.use_running_average,
                                      use_running_average)
    x = as_array(x)
    feature_axes = canonicalize_axes(x.ndim, self.axis)
    reduction_axes = tuple(i for i in range(x.ndim) if i not in feature_axes)
    feature_shape, _ = feature_layout(self, x.shape, feature_axes)
    # Running statistics live in float32, or in param_dtype without float32 reductions.
    stats_dtype = jnp.float32 if self.force_float32_reductions else self.param_dtype
    ra_mean = self.variable('batch_stats', 'mean', lambda s: jnp.zeros(s, stats_dtype),
                            feature_shape)
    ra_var = self.variable('batch_stats', 'var', lambda s: jnp.ones(s, stats_dtype),
                           feature_shape)

    if use_running_average:
      mean, var = ra_mean.value, ra_var.value
      if not self.force_float32_reductions:
        mean, var = jnp.asarray(mean, self.param_dtype), jnp.asarray(var, self.param_dtype)
    else:
      initializing = self.is_initializing()
      mean, var = layer_stats(self, x, reduction_axes, mask=mask,
                              axis_name=None if initializing else self.axis_name)
      if not initializing:
        keep = self.momentum
        ra_mean.value = keep * ra_mean.value + (1 - keep) * mean
        ra_var.value = keep * ra_var.value + (1 - keep) * var

    return affine(self, x, mean, var, reduction_axes=reduction_axes, feature_axes=feature_axes)
