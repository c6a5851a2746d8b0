"""Attention: dot-product attention functions, masks and multi-head layers.

``functions`` and ``masks`` are plain JAX functions; ``multi_head`` holds the
Module layers and ``decode_cache`` their autoregressive cache. The public
façade is ``flaxen.linen.attention`` (and ``flaxen.linen``).
"""

from flaxen._src.linen.attention.functions import (
  dot_product_attention,
  dot_product_attention_weights,
)
from flaxen._src.linen.attention.masks import (
  combine_masks,
  make_attention_mask,
  make_causal_mask,
)
from flaxen._src.linen.attention.multi_head import (
  MultiHeadAttention,
  MultiHeadDotProductAttention,
  SelfAttention,
)
