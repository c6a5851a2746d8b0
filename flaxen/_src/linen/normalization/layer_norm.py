"""Per-example normalizations over chosen axes: ``LayerNorm`` and ``RMSNorm``.

``LayerNorm`` centres and rescales over ``reduction_axes`` (default: the last
axis); ``RMSNorm`` only rescales by the root mean square (no mean, no bias).
Both learn params shaped like ``feature_axes`` and keep no state. Statistics
follow ``stats.compute_stats`` (float32 at least, one pass by default).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen.dtypes import as_array
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import affine, layer_stats
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Axes, Dtype, Initializer

__all__ = ['LayerNorm', 'RMSNorm']


@set_module('flaxen.linen.normalization')
class LayerNorm(Module):
  """Layer normalization (Ba et al., 2016): per-example mean/variance over ``reduction_axes``.

  Attributes:
    epsilon: added to the variance (default 1e-6).
    dtype: output dtype (default: inferred).
    param_dtype: dtype of ``scale`` / ``bias`` (default float32).
    use_bias: learn a bias (default True).
    use_scale: learn a scale (default True).
    bias_init: initializer of ``bias``.
    scale_init: initializer of ``scale``.
    reduction_axes: axes the statistics are computed over (default -1).
    feature_axes: axes of the learned params (default -1).
    axis_name: named axis to average the statistics over.
    axis_index_groups: device groups for that average.
    use_fast_variance: one-pass variance (default True).
    force_float32_reductions: statistics in at least float32 (default True).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> x = jnp.array([[1.0, 2.0, 3.0]])
    >>> y = nn.LayerNorm().apply({'params': {'scale': jnp.ones(3), 'bias': jnp.zeros(3)}}, x)
    >>> bool(jnp.allclose(y, jnp.array([[-1.2247, 0.0, 1.2247]]), atol=1e-4))
    True
  """

  epsilon: float = 1e-6
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_bias: bool = True
  use_scale: bool = True
  bias_init: Initializer = initializers.zeros
  scale_init: Initializer = initializers.ones
  reduction_axes: Axes = -1
  feature_axes: Axes = -1
  axis_name: str | None = None
  axis_index_groups: Any = None
  use_fast_variance: bool = True
  force_float32_reductions: bool = True

  @compact
  def __call__(self, x: Array, *, mask: Array | None = None) -> Array:
    """Normalizes ``x``.

    Args:
      x: input array.
      mask: boolean array like ``x``; only True entries enter the statistics.

    Returns:
      The normalized array, same shape as ``x``.
    """
    x = as_array(x)
    mean, var = layer_stats(self, x, self.reduction_axes, mask=mask)
    return affine(self, x, mean, var, reduction_axes=self.reduction_axes,
                  feature_axes=self.feature_axes)


@set_module('flaxen.linen.normalization')
class RMSNorm(Module):
  """Root-mean-square normalization (Zhang & Sennrich, 2019): ``x / rms(x) * scale``.

  Attributes:
    epsilon: added to the mean square (default 1e-6).
    dtype: output dtype (default: inferred).
    param_dtype: dtype of ``scale`` (default float32).
    use_scale: learn a scale (default True).
    scale_init: initializer of ``scale``.
    reduction_axes: axes the mean square is computed over (default -1).
    feature_axes: axes of ``scale`` (default -1).
    axis_name: named axis to average the statistics over.
    axis_index_groups: device groups for that average.
    use_fast_variance: kept for symmetry with LayerNorm (no mean is used).
    force_float32_reductions: statistics in at least float32 (default True).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> x = jnp.array([[3.0, 4.0]])
    >>> y = nn.RMSNorm(epsilon=0.0).apply({'params': {'scale': jnp.ones(2)}}, x)
    >>> bool(jnp.allclose(y, jnp.array([[0.8485, 1.1314]]), atol=1e-4))  # x / sqrt(12.5)
    True
  """

  epsilon: float = 1e-6
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_scale: bool = True
  scale_init: Initializer = initializers.ones
  reduction_axes: Axes = -1
  feature_axes: Axes = -1
  axis_name: str | None = None
  axis_index_groups: Any = None
  use_fast_variance: bool = True
  force_float32_reductions: bool = True

  @compact
  def __call__(self, x: Array, *, mask: Array | None = None) -> Array:
    """Normalizes ``x`` by its root mean square.

    Args:
      x: input array.
      mask: boolean array like ``x``; only True entries enter the statistics.

    Returns:
      The normalized array, same shape as ``x``.
    """
    x = as_array(x)
    mean, var = layer_stats(self, x, self.reduction_axes, use_mean=False, mask=mask)
    return affine(self, x, mean, var, reduction_axes=self.reduction_axes,
                  feature_axes=self.feature_axes, use_bias=False)
