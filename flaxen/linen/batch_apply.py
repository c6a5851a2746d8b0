"""flaxen.linen.batch_apply: ``BatchApply`` and its leading-axis helpers (re-exports only)."""

from flaxen._src.linen.batch_apply import BatchApply as BatchApply
from flaxen._src.linen.batch_apply import arbitrary_mergeable_leaf as arbitrary_mergeable_leaf
from flaxen._src.linen.batch_apply import merge_leading_dims as merge_leading_dims
from flaxen._src.linen.batch_apply import ndim_at_least as ndim_at_least
from flaxen._src.linen.batch_apply import split_leading_dim as split_leading_dim
