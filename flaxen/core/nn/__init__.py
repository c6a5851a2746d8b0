"""flaxen.core.nn: functional layers that take a ``Scope`` first (re-exports).

Used with ``flaxen.core.init`` / ``apply`` and ``flaxen.core.lift``; the activations,
pooling functions and initializers are those of ``flaxen.linen``.
"""

from flaxen.core.nn import attention as attention
from flaxen.core.nn import linear as linear
from flaxen.core.nn import normalization as normalization
from flaxen.core.nn import stochastic as stochastic
from flaxen.core.nn.attention import dot_product_attention as dot_product_attention
from flaxen.core.nn.attention import (
  multi_head_dot_product_attention as multi_head_dot_product_attention,
)
from flaxen.core.nn.linear import Embedding as Embedding
from flaxen.core.nn.linear import conv as conv
from flaxen.core.nn.linear import conv_transpose as conv_transpose
from flaxen.core.nn.linear import dense as dense
from flaxen.core.nn.linear import dense_general as dense_general
from flaxen.core.nn.linear import embedding as embedding
from flaxen.core.nn.normalization import batch_norm as batch_norm
from flaxen.core.nn.normalization import group_norm as group_norm
from flaxen.core.nn.normalization import layer_norm as layer_norm
from flaxen.core.nn.stochastic import dropout as dropout

# --- activations, pooling and initializers: the same objects as in flaxen.linen ---
# isort: split
from flaxen.linen import activation as activation
from flaxen.linen import initializers as initializers
from flaxen.linen.activation import celu as celu
from flaxen.linen.activation import elu as elu
from flaxen.linen.activation import gelu as gelu
from flaxen.linen.activation import glu as glu
from flaxen.linen.activation import leaky_relu as leaky_relu
from flaxen.linen.activation import log_sigmoid as log_sigmoid
from flaxen.linen.activation import log_softmax as log_softmax
from flaxen.linen.activation import relu as relu
from flaxen.linen.activation import sigmoid as sigmoid
from flaxen.linen.activation import silu as silu
from flaxen.linen.activation import soft_sign as soft_sign
from flaxen.linen.activation import softmax as softmax
from flaxen.linen.activation import softplus as softplus
from flaxen.linen.activation import swish as swish
from flaxen.linen.activation import tanh as tanh
from flaxen.linen.pooling import avg_pool as avg_pool
from flaxen.linen.pooling import max_pool as max_pool
