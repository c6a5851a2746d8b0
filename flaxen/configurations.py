"""Global configuration flags (``flaxen.config`` is ``flaxen.configurations.config``).

This file only re-exports; see ``flaxen._src.config``.
"""

from flaxen._src.config import Config as Config
from flaxen._src.config import FlagHolder as FlagHolder
from flaxen._src.config import bool_flag as bool_flag
from flaxen._src.config import config as config
from flaxen._src.config import define_bool_state as define_bool_state
from flaxen._src.config import flax_always_shard_variable as flax_always_shard_variable
from flaxen._src.config import flax_array_ref as flax_array_ref
from flaxen._src.config import flax_filter_frames as flax_filter_frames
from flaxen._src.config import flax_fix_rng as flax_fix_rng
from flaxen._src.config import flax_fix_rng_separator as flax_fix_rng_separator
from flaxen._src.config import flax_hijax_variable as flax_hijax_variable
from flaxen._src.config import flax_max_repr_depth as flax_max_repr_depth
from flaxen._src.config import flax_preserve_adopted_names as flax_preserve_adopted_names
from flaxen._src.config import flax_profile as flax_profile
from flaxen._src.config import flax_pytree_module as flax_pytree_module
from flaxen._src.config import flax_relaxed_naming as flax_relaxed_naming
from flaxen._src.config import flax_return_frozendict as flax_return_frozendict
from flaxen._src.config import flax_use_flaxlib as flax_use_flaxlib
from flaxen._src.config import flax_use_orbax_checkpointing as flax_use_orbax_checkpointing
from flaxen._src.config import int_flag as int_flag
from flaxen._src.config import nnx_graph_mode as nnx_graph_mode
from flaxen._src.config import nnx_graph_updates as nnx_graph_updates
from flaxen._src.config import static_bool_env as static_bool_env
from flaxen._src.config import static_int_env as static_int_env
from flaxen._src.config import temp_flip_flag as temp_flip_flag
