"""flaxen.linen.stochastic: the Dropout layer."""

from flaxen._src.linen.stochastic import Dropout as Dropout
