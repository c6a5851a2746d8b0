"""``flaxen.training.orbax_utils``: Orbax arguments built as the reference builds them.

This file only re-exports; see ``flaxen._src.training.orbax_utils``.
"""

from jax.sharding import Mesh as Mesh

from flaxen._src.training.orbax_utils import is_multi_device_array as is_multi_device_array
from flaxen._src.training.orbax_utils import (
  maybe_construct_transformations as maybe_construct_transformations,
)
from flaxen._src.training.orbax_utils import ocp as ocp
from flaxen._src.training.orbax_utils import restore_args_from_target as restore_args_from_target
from flaxen._src.training.orbax_utils import save_args_from_target as save_args_from_target
from flaxen._src.typing import PyTree as PyTree
