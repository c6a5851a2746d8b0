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
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen.dtypes import canonicalize_dtype
from flaxen._src.linen.module.compact import compact
from flaxen._src.linen.module.module import Module
from flaxen._src.linen.normalization.stats import Axes, canonicalize_axes, l2_normalize
from flaxen._src.public import set_module

__all__ = ['SpectralNorm', 'WeightNorm']

Array = Any
Dtype = Any


def _map_variables() -> Callable[..., Any]:
  # Imported on first use: the transforms bridge sits beside the layers in
  # flaxen._src.linen and itself imports the Module system.
  from flaxen._src.linen.transforms import map_variables

  return map_variables


def _path_name(layer_name: str, path: tuple[Any, ...]) -> str:
  """``'layer_instance'`` + param path without the collection, ``/``-joined."""
  parts = [layer_name]
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

    map_variables = _map_variables()

    def forward(layer: Module) -> Any:
      return layer(*args, **kwargs)

    def trans_in(variables: Any) -> Any:
      return jax.tree_util.tree_map_with_path(
        lambda path, v: self._normalize(path, v, update_stats), variables)

    return map_variables(forward, trans_in_fn=trans_in, init=self.is_initializing(),
                         mutable=True)(self.layer_instance)

  def _normalize(self, path: tuple[Any, ...], vs: Array, update_stats: bool) -> Array:
    value = jnp.asarray(vs)
    shape = value.shape
    if value.ndim <= 1 or self.n_steps < 1:
      return value
    if value.ndim > 2:
      if self.error_on_non_matrix:
        raise ValueError(f'SpectralNorm "{self.layer_instance.name}": param '
                         f'{_path_name(self.layer_instance.name, path)} is {value.ndim}-D but '
                         'error_on_non_matrix is True.')
      value = value.reshape((-1, shape[-1]))
    name = _path_name(self.layer_instance.name, path)
    u_shape = (1, value.shape[-1])
    u_var = self.variable(self.collection_name, name + '/u',
                          lambda: jax.random.normal(self.make_rng('params'), u_shape,
                                                    self.param_dtype))
    sigma_var = self.variable(self.collection_name, name + '/sigma', jnp.ones, (),
                              self.param_dtype)
    u = u_var.value
    v = None
    for _ in range(self.n_steps):
      v = l2_normalize(jnp.matmul(u, value.transpose([1, 0])), eps=self.epsilon)
      u = l2_normalize(jnp.matmul(v, value), eps=self.epsilon)
    u = jax.lax.stop_gradient(u)
    v = jax.lax.stop_gradient(v)
    sigma = jnp.matmul(jnp.matmul(v, value), jnp.transpose(u))[0, 0]
    value = value / jnp.where(sigma != 0, sigma, 1)
    if update_stats:
      u_var.value = u
      sigma_var.value = sigma
    dtype = canonicalize_dtype(vs, u, v, sigma, dtype=self.dtype)
    return jnp.asarray(value.reshape(shape), dtype)


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
  scale_init: Callable[..., Any] = initializers.ones
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

    map_variables = _map_variables()

    def forward(layer: Module) -> Any:
      return layer(*args, **kwargs)

    def trans_in(variables: Any) -> Any:
      return jax.tree_util.tree_map_with_path(self._normalize, variables)

    return map_variables(forward, trans_in_fn=trans_in,
                         init=self.is_initializing())(self.layer_instance)

  def _normalize(self, path: tuple[Any, ...], vs: Array) -> Array:
    value = jnp.asarray(vs)
    name = _path_name(self.layer_instance.name, path)
    if self.variable_filter and not any(f in name for f in self.variable_filter):
      return value
    if self.feature_axes is None:
      feature_axes: tuple[int, ...] = ()
    else:
      feature_axes = canonicalize_axes(value.ndim, self.feature_axes)
    reduction_axes = tuple(i for i in range(value.ndim) if i not in feature_axes)
    full_shape = [1] * value.ndim
    scale_shape = []
    for ax in feature_axes:
      full_shape[ax] = value.shape[ax]
      scale_shape.append(value.shape[ax])
    value_bar = l2_normalize(value, axis=reduction_axes, eps=self.epsilon)
    args = [vs]
    if self.use_scale:
      scale = self.param(name + '/scale', self.scale_init, tuple(scale_shape),
                         self.param_dtype).reshape(full_shape)
      value_bar = value_bar * scale
      args.append(scale)
    return jnp.asarray(value_bar, canonicalize_dtype(*args, dtype=self.dtype))
