"""flaxen.core.nn.normalization: functional batch, layer and group norm (re-exports)."""

from flaxen._src.core.nn.normalization import batch_norm as batch_norm
from flaxen._src.core.nn.normalization import group_norm as group_norm
from flaxen._src.core.nn.normalization import layer_norm as layer_norm
from flaxen._src.core.scope import Scope as Scope
from flaxen.linen import initializers as initializers
