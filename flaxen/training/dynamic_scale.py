"""``flaxen.training.dynamic_scale``: dynamic loss scaling for float16 training.

This file only re-exports; see ``flaxen._src.training.dynamic_scale``.
"""

from flaxen._src.training.dynamic_scale import DynamicScale as DynamicScale
from flaxen._src.training.dynamic_scale import DynamicScaleResult as DynamicScaleResult
