"""flaxen.core.nn.stochastic: functional dropout (re-exports)."""

from flaxen._src.core.nn.stochastic import dropout as dropout
