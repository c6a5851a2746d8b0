"""flaxen.linen.combinators: ``Sequential`` (and, for older flaxen code, ``BatchApply``)."""

from flaxen._src.linen.batch_apply import BatchApply as BatchApply
from flaxen._src.linen.combinators import Sequential as Sequential
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.module import Module as Module
