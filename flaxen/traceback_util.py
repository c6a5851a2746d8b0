"""``flaxen.traceback_util``: hide or show flaxen's frames in tracebacks.

This file only re-exports; see ``flaxen._src.traceback_util``.
"""

from flaxen._src.config import config as config
from flaxen._src.traceback_util import api_boundary as api_boundary
from flaxen._src.traceback_util import hide_flax_in_tracebacks as hide_flax_in_tracebacks
from flaxen._src.traceback_util import register_exclusion as register_exclusion
from flaxen._src.traceback_util import show_flax_in_tracebacks as show_flax_in_tracebacks
