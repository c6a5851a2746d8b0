"""flaxen.linen.attention: dot-product attention, masks and multi-head layers.

This file only re-exports.
"""

from flaxen._src.linen.attention.functions import (
  dot_product_attention as dot_product_attention,
)
from flaxen._src.linen.attention.functions import (
  dot_product_attention_weights as dot_product_attention_weights,
)
from flaxen._src.linen.attention.masks import combine_masks as combine_masks
from flaxen._src.linen.attention.masks import make_attention_mask as make_attention_mask
from flaxen._src.linen.attention.masks import make_causal_mask as make_causal_mask
from flaxen._src.linen.attention.multi_head import MultiHeadAttention as MultiHeadAttention
from flaxen._src.linen.attention.multi_head import (
  MultiHeadDotProductAttention as MultiHeadDotProductAttention,
)
from flaxen._src.linen.attention.multi_head import SelfAttention as SelfAttention
