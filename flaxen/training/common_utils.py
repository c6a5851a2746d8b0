"""``flaxen.training.common_utils``: helpers for pmap training loops.

This file only re-exports; see ``flaxen._src.training.common_utils``.
"""

from flaxen._src.training.common_utils import get_metrics as get_metrics
from flaxen._src.training.common_utils import onehot as onehot
from flaxen._src.training.common_utils import shard as shard
from flaxen._src.training.common_utils import shard_prng_key as shard_prng_key
from flaxen._src.training.common_utils import stack_forest as stack_forest
