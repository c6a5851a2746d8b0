"""``flaxen.training.dynamic_scale``: dynamic loss scaling for float16 training.

This file only re-exports; see ``flaxen._src.training.dynamic_scale``.
"""

from flaxen import struct as struct
from flaxen._src.training.dynamic_scale import DynamicScale as DynamicScale
from flaxen._src.training.dynamic_scale import DynamicScaleResult as DynamicScaleResult
from flaxen._src.typing import Array as Array
