"""``flaxen.training.orbax_utils``: arguments for the optional Orbax backend.

This file only re-exports; see ``flaxen._src.training.orbax_utils``.
"""

from flaxen._src.training.orbax_utils import restore_args_from_target as restore_args_from_target
from flaxen._src.training.orbax_utils import save_args_from_target as save_args_from_target
