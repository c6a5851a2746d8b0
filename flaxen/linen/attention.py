"""flaxen.linen.attention: dot-product attention, masks and multi-head layers.

This file only re-exports, including the aliases and helpers the reference's
module exposes (``PrecisionLike``, ``DenseGeneral``, ``default_kernel_init``, ...).
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
from flaxen._src.linen.dtypes import promote_dtype as promote_dtype
from flaxen._src.linen.linear import DenseGeneral as DenseGeneral
from flaxen._src.linen.linear import default_kernel_init as default_kernel_init
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.normalization import LayerNorm as LayerNorm
from flaxen._src.typing import Array as Array
from flaxen._src.typing import DotGeneralT as DotGeneralT
from flaxen._src.typing import Dtype as Dtype
from flaxen._src.typing import Initializer as Initializer
from flaxen._src.typing import PrecisionLike as PrecisionLike
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import Shape as Shape
from flaxen.linen import initializers as initializers
