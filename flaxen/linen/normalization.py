"""flaxen.linen.normalization: BatchNorm, LayerNorm, RMSNorm, GroupNorm, InstanceNorm, SpectralNorm, WeightNorm."""

from flaxen._src.linen.normalization import BatchNorm as BatchNorm
from flaxen._src.linen.normalization import GroupNorm as GroupNorm
from flaxen._src.linen.normalization import InstanceNorm as InstanceNorm
from flaxen._src.linen.normalization import LayerNorm as LayerNorm
from flaxen._src.linen.normalization import RMSNorm as RMSNorm
from flaxen._src.linen.normalization import SpectralNorm as SpectralNorm
from flaxen._src.linen.normalization import WeightNorm as WeightNorm
