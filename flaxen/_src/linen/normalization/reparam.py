"""Weight re-parametrizations of a wrapped layer: ``SpectralNorm`` and ``WeightNorm``.

Both wrap a Module instance given as the field ``layer_instance`` (adopted
under that name) and call it through ``nn.map_variables``, which rewrites the
wrapped layer's params on the way in:

* ``SpectralNorm`` divides every param of rank >= 2 (reshaped to
  ``(-1, last_dim)``) by its largest singular value, estimated by
  ``n_steps`` of power iteration from the vector ``u``. ``u`` (shape
  ``(1, last_dim)``, initialized from ``normal(make_rng('params'))``) and
  ``sigma`` live in ``collection_name`` on the wrapper, named
  ``'<layer name>/<param path>/u'`` / ``'.../sigma'`` (keys containing
  ``/``); they are written only when ``update_stats=True``.
* ``WeightNorm`` replaces each param whose path contains a name in
  ``variable_filter`` by ``scale * w / ||w||`` (norm over all but
  ``feature_axes``); the learned ``scale`` is a param of the wrapper named
  ``'<layer name>/<param path>/scale'``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, cast

import jax
import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import canonicalize_axes, layer_error
from flaxen._src.linen.dtypes import canonicalize_dtype
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import feature_layout, l2_normalize
from flaxen._src.linen.transforms import map_variables
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Axes, Dtype, Initializer

__all__ = ['SpectralNorm', 'WeightNorm']


def power_iteration(w: Array, u: Array, steps: int, eps: float) -> tuple[Array, Array]:
  """``steps`` rounds of ``v <- normalize(u w^T)``, ``u <- normalize(v w)``.

  Returns the final ``(u, v)`` with gradients stopped (they only estimate the
  top singular vectors; the gradient flows through ``w``).
  """
  v = None
  for _ in range(steps):
    v = l2_normalize(u @ w.T, eps=eps)
    u = l2_normalize(v @ w, eps=eps)
  return jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)


def top_singular_value(w: Array, u: Array, v: Array) -> Array:
  """The Rayleigh-quotient estimate ``v w u^T`` of ``w``'s largest singular value."""
  return ((v @ w) @ u.T)[0, 0]


def _path_name(layer_name: str | None, path: tuple[Any, ...]) -> str:
  """``'layer_instance'`` + param path without the collection, ``/``-joined."""
  parts = [cast(str, layer_name)]  # the wrapped layer is named once the wrapper is bound
  for entry in path[1:]:
    parts.append(str(getattr(entry, 'key', getattr(entry, 'name', entry))))
  return '/'.join(parts)


@set_module('flaxen.linen.normalization')
class SpectralNorm(Module):
  """Spectral normalization (Miyato et al., 2018) of a wrapped layer's params.

  Attributes:
    layer_instance: the Module whose params are normalized.
    n_steps: power-iteration steps per call (default 1).
    epsilon: stabilizer of the vector normalizations (default 1e-12).
    dtype: output dtype of the normalized params (default: inferred).
    param_dtype: dtype of ``u`` and ``sigma`` (default float32).
    error_on_non_matrix: raise on params of rank > 2 instead of reshaping them.
    collection_name: collection holding ``u`` / ``sigma`` (default ``'batch_stats'``).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.SpectralNorm(nn.Dense(4))
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 5)), update_stats=True)
    >>> sorted(variables['batch_stats'])
    ['layer_instance/kernel/sigma', 'layer_instance/kernel/u']
  """

  layer_instance: Module
  n_steps: int = 1
  epsilon: float = 1e-12
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  error_on_non_matrix: bool = False
  collection_name: str = 'batch_stats'

  @compact
  def __call__(self, *args: Any, update_stats: bool, **kwargs: Any) -> Any:
    """Calls the wrapped layer with spectrally normalized params.

    Args:
      *args: positional arguments of the wrapped layer.
      update_stats: write the new ``u`` / ``sigma`` (needs the collection mutable).
      **kwargs: keyword arguments of the wrapped layer.

    Returns:
      The wrapped layer's output.
    """

    def layer_forward(layer: Any) -> Any:  # the wrapped Module (its __call__ is its own)
      return layer(*args, **kwargs)

    def trans_in(variables: Any) -> Any:
      return jax.tree_util.tree_map_with_path(
        lambda path, v: self._spectral_normalize(path, v, update_stats), variables)

    return map_variables(layer_forward, trans_in_fn=trans_in, init=self.is_initializing(),
                         mutable=True)(self.layer_instance)

  def _spectral_normalize(self, path: tuple[Any, ...], vs: Array, update_stats: bool) -> Array:
    w = jnp.asarray(vs)
    if w.ndim <= 1 or self.n_steps < 1:
      return w
    original_shape = w.shape
    if w.ndim > 2:
      if self.error_on_non_matrix:
        raise layer_error(self, f'Input is {w.ndim}D but error_on_non_matrix is True',
                          hint=f'param {_path_name(self.layer_instance.name, path)} has shape '
                               f'{original_shape}')
      w = w.reshape((-1, original_shape[-1]))
    name = _path_name(self.layer_instance.name, path)
    u_init_shape = (1, w.shape[-1])
    u_store = self.variable(
      self.collection_name, name + '/u',
      lambda: jax.random.normal(self.make_rng('params'), u_init_shape, self.param_dtype))
    sigma_store = self.variable(self.collection_name, name + '/sigma', jnp.ones, (),
                                self.param_dtype)
    u, v = power_iteration(w, u_store.value, self.n_steps, self.epsilon)
    sigma = top_singular_value(w, u, v)
    w = w / jnp.where(sigma != 0, sigma, 1)
    if update_stats:
      u_store.value = u
      sigma_store.value = sigma
    out_dtype = canonicalize_dtype(vs, u, v, sigma, dtype=self.dtype)
    return jnp.asarray(w.reshape(original_shape), out_dtype)


@set_module('flaxen.linen.normalization')
class WeightNorm(Module):
  """Weight normalization (Salimans & Kingma, 2016) of a wrapped layer's params.

  Attributes:
    layer_instance: the Module whose params are re-parametrized.
    epsilon: stabilizer of the norm (default 1e-12).
    dtype: output dtype of the new params (default: inferred).
    param_dtype: dtype of ``scale`` (default float32).
    use_scale: learn a scale (default True).
    scale_init: initializer of ``scale`` (ones).
    feature_axes: axes kept by the norm and carried by ``scale`` (default -1;
      ``None``: a scalar norm and scale).
    variable_filter: substrings selecting the params to normalize (default ``{'kernel'}``;
      empty or ``None``: every param).

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.WeightNorm(nn.Dense(4))
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.ones((2, 5)))
    >>> variables['params']['layer_instance/kernel/scale'].shape
    (4,)
  """

  layer_instance: Module
  epsilon: float = 1e-12
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  use_scale: bool = True
  scale_init: Initializer = initializers.ones
  feature_axes: Axes | None = -1
  variable_filter: Iterable[str] | None = dataclasses.field(default_factory=lambda: {'kernel'})

  @compact
  def __call__(self, *args: Any, **kwargs: Any) -> Any:
    """Calls the wrapped layer with weight-normalized params.

    Args:
      *args: positional arguments of the wrapped layer.
      **kwargs: keyword arguments of the wrapped layer.

    Returns:
      The wrapped layer's output.
    """

    def layer_forward(layer: Any) -> Any:  # the wrapped Module (its __call__ is its own)
      return layer(*args, **kwargs)

    def trans_in(variables: Any) -> Any:
      return jax.tree_util.tree_map_with_path(self._l2_normalize, variables)

    return map_variables(layer_forward, trans_in_fn=trans_in,
                         init=self.is_initializing())(self.layer_instance)

  def _l2_normalize(self, path: tuple[Any, ...], vs: Array) -> Array:
    w = jnp.asarray(vs)
    name = _path_name(self.layer_instance.name, path)
    selected = not self.variable_filter or any(f in name for f in self.variable_filter)
    if not selected:
      return w
    keep = () if self.feature_axes is None else canonicalize_axes(w.ndim, self.feature_axes)
    scale_shape, scale_full_shape = feature_layout(self, w.shape, keep)
    direction = l2_normalize(w, axis=tuple(ax for ax in range(w.ndim) if ax not in keep),
                             eps=self.epsilon)
    if not self.use_scale:
      return jnp.asarray(direction, canonicalize_dtype(vs, dtype=self.dtype))
    scale = self.param(name + '/scale', self.scale_init, scale_shape, self.param_dtype)
    scale = scale.reshape(scale_full_shape)
    return jnp.asarray(direction * scale, canonicalize_dtype(vs, scale, dtype=self.dtype))
