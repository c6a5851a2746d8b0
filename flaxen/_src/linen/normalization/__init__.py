"""Normalization layers.

``stats.py`` holds the shared arithmetic (statistics in the reference's order
and the affine rescale); ``batch_norm.py``, ``layer_norm.py`` (LayerNorm,
RMSNorm), ``group_norm.py`` (GroupNorm, InstanceNorm) and ``reparam.py``
(SpectralNorm, WeightNorm) hold the layers. This file only gathers names.
"""

from flaxen._src.linen.normalization.batch_norm import BatchNorm as BatchNorm
from flaxen._src.linen.normalization.group_norm import GroupNorm as GroupNorm
from flaxen._src.linen.normalization.group_norm import InstanceNorm as InstanceNorm
from flaxen._src.linen.normalization.layer_norm import LayerNorm as LayerNorm
from flaxen._src.linen.normalization.layer_norm import RMSNorm as RMSNorm
from flaxen._src.linen.normalization.reparam import SpectralNorm as SpectralNorm
from flaxen._src.linen.normalization.reparam import WeightNorm as WeightNorm
