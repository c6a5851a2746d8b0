"""``flaxen.traceback_util``: hide or show flaxen's frames in tracebacks.

This file only re-exports; see ``flaxen._src.traceback_util``.
"""

from flaxen._src.traceback_util import hide_flax_in_tracebacks as hide_flax_in_tracebacks
from flaxen._src.traceback_util import show_flax_in_tracebacks as show_flax_in_tracebacks
