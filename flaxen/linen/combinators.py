"""flaxen.linen.combinators: Sequential and BatchApply."""

from flaxen._src.linen.combinators import BatchApply as BatchApply
from flaxen._src.linen.combinators import Sequential as Sequential
