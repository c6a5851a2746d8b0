"""Multi-head dot-product attention layers.

``MultiHeadDotProductAttention`` projects the query, key and value inputs with
three ``DenseGeneral`` layers named ``query``, ``key`` and ``value`` (features
``(num_heads, head_dim)``), optionally layer-normalises query and key
(``query_ln``/``key_ln``), optionally updates an autoregressive ``cache``
(``decode=True``, see ``decode_cache.py``), runs ``attention_fn`` and projects
back with a ``DenseGeneral`` named ``out`` over the last two axes. The order in
which these sub-layers are created fixes the parameter order, and therefore
the RNG keys and the msgpack bytes; it is the reference's order.

``MultiHeadAttention`` is the same layer under another class name (so its auto
name is ``MultiHeadAttention_<i>``); ``SelfAttention`` is the deprecated
self-attention special case.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from flaxen._src.linen._layer_utils import BadLayerInput, layer_message
from flaxen._src.linen.attention.decode_cache import update_decode_cache
from flaxen._src.linen.attention.functions import dot_product_attention
from flaxen._src.linen.initializers import default_kernel_init, zeros_init
from flaxen._src.linen.linear import DenseGeneral
from flaxen._src.linen.module import Module, compact, merge_param, nowrap
from flaxen._src.linen.normalization import LayerNorm
from flaxen._src.public import set_module
from flaxen._src.typing import Array, DotGeneralT, Dtype, Initializer, PrecisionLike, PRNGKey

_DISCUSSION = 'See https://github.com/google/flax/discussions/3389'
_KV_AND_K_OR_V = (
  'If either `inputs_k` or `inputs_v` is not None, `inputs_kv` must be None. If `inputs_kv` '
  'is not None, both `inputs_k` and `inputs_v` must be None. We recommend using `inputs_k` '
  'and `inputs_v` args, since `inputs_kv` will be deprecated soon. '
  f'{_DISCUSSION} for more information.')
_KV_DEPRECATED = (
  'The inputs_kv arg will be deprecated soon. Use inputs_k and inputs_v instead. '
  f'{_DISCUSSION} for more information.')
_V_WITHOUT_K = (
  '`inputs_k` cannot be None if `inputs_v` is not None. To have both `inputs_k` and '
  '`inputs_v` be the same value, pass in the value to `inputs_k` and leave `inputs_v` as None.')


def _maybe_mask_warning(shape: tuple[int, ...]) -> str:
  return (
    f'You are passing an array of shape {shape} to the `inputs_v` arg, when you may have '
    'intended to pass it to the `mask` arg. As of Flax version 0.7.4, the function signature '
    "of MultiHeadDotProductAttention's `__call__` method has changed to `__call__(inputs_q, "
    'inputs_k=None, inputs_v=None, *, inputs_kv=None, mask=None, deterministic=None)`. Use the '
    f'kwarg `mask` instead. {_DISCUSSION} and read the docstring for more information.')


@functools.lru_cache(maxsize=256)
def _cached_parameters(fn: Callable[..., Any]) -> frozenset:
  return frozenset(inspect.signature(fn).parameters)


def _accepted_kwargs(fn: Callable[..., Any]) -> frozenset:
  """Keyword names ``fn`` accepts (cached per function when hashable)."""
  try:
    return _cached_parameters(fn)
  except TypeError:  # unhashable callable
    return frozenset(inspect.signature(fn).parameters)


def _resolve_kv(inputs_q: Array, inputs_k: Array | None, inputs_v: Array | None,
                inputs_kv: Array | None) -> tuple[Array, Array]:
  """Fills in the key/value inputs the way the reference does (same errors and warnings).

  ``inputs_kv`` (deprecated) stands for both; otherwise a missing key is the
  query and a missing value is the key. A value whose last two axes are equal
  may be a mask passed positionally: that gets the reference's deprecation
  warning (an input with fewer than two axes fails there with ``IndexError``).
  """
  if inputs_kv is not None:
    if inputs_k is not None or inputs_v is not None:
      raise ValueError(_KV_AND_K_OR_V)
    warnings.warn(_KV_DEPRECATED, DeprecationWarning, stacklevel=3)
    return inputs_kv, inputs_kv
  if inputs_k is None:
    if inputs_v is not None:
      raise ValueError(_V_WITHOUT_K)
    inputs_k = inputs_q
  if inputs_v is None:
    return inputs_k, inputs_k
  shape = np.shape(inputs_v)
  if shape[-1] == shape[-2]:
    warnings.warn(_maybe_mask_warning(shape), DeprecationWarning, stacklevel=3)
  return inputs_k, inputs_v


@set_module('flaxen.linen')
class MultiHeadDotProductAttention(Module):
  """Multi-head dot-product attention.

  Attributes:
    num_heads: number of attention heads; ``qkv_features`` must be divisible by it.
    dtype: computation dtype (default: inferred from inputs and params).
    param_dtype: dtype of the parameters.
    qkv_features: size of the query/key/value projections (default: the last
      axis of ``inputs_q``).
    out_features: size of the output (default: the last axis of ``inputs_q``).
    broadcast_dropout: share one dropout mask across batch and heads.
    dropout_rate: attention-weight dropout rate.
    deterministic: disables dropout; merged with the call argument.
    precision: numerical precision of the projections and the attention.
    kernel_init, bias_init: initializers of the q/k/v (and, by default, out)
      projections.
    out_kernel_init, out_bias_init: initializers of the output projection.
    use_bias: whether the projections have biases.
    attention_fn: ``dot_product_attention`` or a function with its signature
      (keyword arguments it does not accept are not passed).
    decode: keep an autoregressive ``cache`` of keys and values.
    normalize_qk: apply ``LayerNorm`` (no bias) to the projected query and key.
    force_fp32_for_softmax: run the softmax in float32.
    qkv_dot_general, out_dot_general, qkv_dot_general_cls, out_dot_general_cls:
      custom ``dot_general`` for the projections.
    qk_attn_weights_einsum_cls, attn_weights_value_einsum_cls: factories for
      custom einsums inside ``attention_fn``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8)
    >>> x = jnp.ones((1, 5, 6))
    >>> variables = layer.init(jax.random.PRNGKey(0), x)
    >>> layer.apply(variables, x).shape
    (1, 5, 6)
  """

  num_heads: int
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  qkv_features: int | None = None
  out_features: int | None = None
  broadcast_dropout: bool = True
  dropout_rate: float = 0.0
  deterministic: bool | None = None
  precision: PrecisionLike = None
  kernel_init: Initializer = default_kernel_init
  out_kernel_init: Initializer | None = None
  bias_init: Initializer = zeros_init()
  out_bias_init: Initializer | None = None
  use_bias: bool = True
  attention_fn: Callable[..., Array] = dot_product_attention
  decode: bool = False
  normalize_qk: bool = False
  force_fp32_for_softmax: bool = False
  qkv_dot_general: DotGeneralT | None = None
  out_dot_general: DotGeneralT | None = None
  qkv_dot_general_cls: Any = None
  out_dot_general_cls: Any = None
  qk_attn_weights_einsum_cls: Callable[..., Callable[..., Array]] | None = None
  attn_weights_value_einsum_cls: Callable[..., Callable[..., Array]] | None = None

  @nowrap
  def _dense(self, name: str, features: Any, axis: Any, kernel_init: Any, bias_init: Any,
             dot_general: Any, dot_general_cls: Any) -> DenseGeneral:
    kwargs: dict[str, Any] = {}
    if dot_general is not None:
      kwargs['dot_general'] = dot_general
    if dot_general_cls is not None:
      kwargs['dot_general_cls'] = dot_general_cls
    return DenseGeneral(
      features=features,
      axis=axis,
      dtype=self.dtype,
      param_dtype=self.param_dtype,
      kernel_init=kernel_init,
      bias_init=bias_init,
      use_bias=self.use_bias,
      precision=self.precision,
      name=name,
      **kwargs,
    )

  @nowrap
  def _head_dim(self, inputs_q: Array) -> int:
    qkv_features = self.qkv_features or np.shape(inputs_q)[-1]
    if qkv_features % self.num_heads:
      raise BadLayerInput(layer_message(
        self, f'Memory dimension ({qkv_features}) must be divisible by number of heads '
              f'({self.num_heads}).', hint=f'qkv_features={self.qkv_features}'))
    return qkv_features // self.num_heads

  @compact
  def __call__(
    self,
    inputs_q: Array,
    inputs_k: Array | None = None,
    inputs_v: Array | None = None,
    *,
    inputs_kv: Array | None = None,
    mask: Array | None = None,
    deterministic: bool | None = None,
    dropout_rng: PRNGKey | None = None,
    sow_weights: bool = False,
  ) -> Array:
    """Applies multi-head attention.

    Args:
      inputs_q: queries ``[batch..., q_length, q_features]``.
      inputs_k: keys ``[batch..., kv_length, k_features]`` (default: ``inputs_q``).
      inputs_v: values ``[batch..., kv_length, v_features]`` (default: ``inputs_k``).
      inputs_kv: deprecated; keys and values at once.
      mask: ``[batch..., num_heads or 1, q_length, kv_length]``; false entries are masked.
      deterministic: disables dropout; merged with the attribute.
      dropout_rng: key for dropout (default: ``make_rng('dropout')``).
      sow_weights: sow the attention weights into ``'intermediates'``.

    Returns:
      ``[batch..., q_length, out_features or q_features]``.
    """
    inputs_k, inputs_v = _resolve_kv(inputs_q, inputs_k, inputs_v, inputs_kv)
    features = self.out_features or np.shape(inputs_q)[-1]
    head_dim = self._head_dim(inputs_q)

    def project(name: str) -> DenseGeneral:
      return self._dense(name, (self.num_heads, head_dim), -1, self.kernel_init,
                         self.bias_init, self.qkv_dot_general, self.qkv_dot_general_cls)

    query = project('query')(inputs_q)
    key = project('key')(inputs_k)
    value = project('value')(inputs_v)

    if self.normalize_qk:
      query = LayerNorm(name='query_ln', use_bias=False, dtype=self.dtype,
                        param_dtype=self.param_dtype)(query)
      key = LayerNorm(name='key_ln', use_bias=False, dtype=self.dtype,
                      param_dtype=self.param_dtype)(key)

    if self.decode:
      key, value, mask = update_decode_cache(self, query, key, value, mask)

    if self.dropout_rate > 0.0:
      m_deterministic = merge_param('deterministic', self.deterministic, deterministic)
      if not m_deterministic and dropout_rng is None:
        dropout_rng = self.make_rng('dropout')
    else:
      m_deterministic = True

    attn_kwargs = dict(
      mask=mask,
      dropout_rng=dropout_rng,
      dropout_rate=self.dropout_rate,
      broadcast_dropout=self.broadcast_dropout,
      deterministic=m_deterministic,
      dtype=self.dtype,
      precision=self.precision,
      force_fp32_for_softmax=self.force_fp32_for_softmax,
      qk_attn_weights_einsum=(
        self.qk_attn_weights_einsum_cls() if self.qk_attn_weights_einsum_cls else None
      ),
      attn_weights_value_einsum=(
        self.attn_weights_value_einsum_cls() if self.attn_weights_value_einsum_cls else None
      ),
    )
    accepted = _accepted_kwargs(self.attention_fn)
    attn_kwargs = {k: v for k, v in attn_kwargs.items() if k in accepted}
    if sow_weights:
      x = self.attention_fn(query, key, value, **attn_kwargs, module=self)
    else:
      x = self.attention_fn(query, key, value, **attn_kwargs)

    out = self._dense('out', features, (-2, -1), self.out_kernel_init or self.kernel_init,
                      self.out_bias_init or self.bias_init, self.out_dot_general,
                      self.out_dot_general_cls)
    return out(x)


@set_module('flaxen.linen')
class MultiHeadAttention(MultiHeadDotProductAttention):
  """Multi-head dot-product attention (same layer as ``MultiHeadDotProductAttention``).

  Only the class name differs, so auto-named instances are called
  ``MultiHeadAttention_<i>``. See ``MultiHeadDotProductAttention`` for the
  attributes and the call signature.
  """


@set_module('flaxen.linen')
class SelfAttention(MultiHeadDotProductAttention):
  """Self-attention: ``MultiHeadDotProductAttention`` with keys and values = queries.

  Deprecated in the reference (it warns with a ``DeprecationWarning`` on every
  call); use ``MultiHeadDotProductAttention()(inputs_q)`` instead.
  """

  @compact
  def __call__(  # type: ignore[override]
    self,
    inputs_q: Array,
    mask: Array | None = None,
    deterministic: bool | None = None,
    dropout_rng: PRNGKey | None = None,
    sow_weights: bool = False,
  ) -> Array:
    """Applies self-attention on ``inputs_q`` (see the parent class)."""
    warnings.warn(
      'SelfAttention will be deprecated soon. Use '
      f'`MultiHeadDotProductAttention.__call__(inputs_q)` instead. {_DISCUSSION} '
      'for more information.',
      DeprecationWarning,
      stacklevel=2,
    )
    return super().__call__(
      inputs_q,
      mask=mask,
      deterministic=deterministic,
      dropout_rng=dropout_rng,
      sow_weights=sow_weights,
    )
