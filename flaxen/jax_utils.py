"""``flaxen.jax_utils``: multi-device helpers (replicate, pad_shard_unpad, ...).

This file only re-exports; see ``flaxen._src.jax_utils``.
"""

from flaxen import core as core
from flaxen._src.jax_utils import pad_shard_unpad as pad_shard_unpad
from flaxen._src.jax_utils import partial_eval_by_shape as partial_eval_by_shape
from flaxen._src.jax_utils import pmean as pmean
from flaxen._src.jax_utils import prefetch_to_device as prefetch_to_device
from flaxen._src.jax_utils import replicate as replicate
from flaxen._src.jax_utils import scan_in_dim as scan_in_dim
from flaxen._src.jax_utils import unreplicate as unreplicate
