"""flaxen.core.nn.attention: functional (multi-head) dot-product attention (re-exports)."""

from flaxen._src.core.nn.attention import CacheEntry as CacheEntry
from flaxen._src.core.nn.attention import dot_product_attention as dot_product_attention
from flaxen._src.core.nn.attention import (
  multi_head_dot_product_attention as multi_head_dot_product_attention,
)
from flaxen._src.core.nn.attention_masks import make_padding_mask as make_padding_mask
from flaxen._src.core.nn.linear import default_kernel_init as default_kernel_init
from flaxen._src.core.nn.linear import dense_general as dense_general
from flaxen._src.core.scope import Scope as Scope
from flaxen.linen import initializers as initializers
