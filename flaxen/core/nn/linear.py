"""flaxen.core.nn.linear: functional dense, convolution and embedding layers (re-exports)."""

from flaxen._src.core.nn.linear import Embedding as Embedding
from flaxen._src.core.nn.linear import conv as conv
from flaxen._src.core.nn.linear import conv_transpose as conv_transpose
from flaxen._src.core.nn.linear import default_embed_init as default_embed_init
from flaxen._src.core.nn.linear import default_kernel_init as default_kernel_init
from flaxen._src.core.nn.linear import dense as dense
from flaxen._src.core.nn.linear import dense_general as dense_general
from flaxen._src.core.nn.linear import embedding as embedding
from flaxen._src.core.scope import Scope as Scope
from flaxen.linen import initializers as initializers
