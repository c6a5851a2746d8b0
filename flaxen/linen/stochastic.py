"""flaxen.linen.stochastic: the Dropout layer (and the helpers the reference's module exposes)."""

from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.stochastic import Dropout as Dropout
from flaxen._src.typing import PRNGKey as PRNGKey
