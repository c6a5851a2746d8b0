"""flaxen.linen.normalization: BatchNorm, LayerNorm, RMSNorm, GroupNorm, InstanceNorm, SpectralNorm, WeightNorm.

This file only re-exports, including the aliases and helpers the reference's
module exposes (``Axes``, ``Dtype``, ``canonicalize_dtype``, ``merge_param``, ...).
"""

from dataclasses import field as field

from jax.nn import initializers as initializers

from flaxen._src.linen.dtypes import canonicalize_dtype as canonicalize_dtype
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.normalization import BatchNorm as BatchNorm
from flaxen._src.linen.normalization import GroupNorm as GroupNorm
from flaxen._src.linen.normalization import InstanceNorm as InstanceNorm
from flaxen._src.linen.normalization import LayerNorm as LayerNorm
from flaxen._src.linen.normalization import RMSNorm as RMSNorm
from flaxen._src.linen.normalization import SpectralNorm as SpectralNorm
from flaxen._src.linen.normalization import WeightNorm as WeightNorm
from flaxen._src.linen.transforms import map_variables as map_variables
from flaxen._src.typing import Array as Array
from flaxen._src.typing import Axes as Axes
from flaxen._src.typing import Dtype as Dtype
from flaxen._src.typing import Initializer as Initializer
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import Shape as Shape
