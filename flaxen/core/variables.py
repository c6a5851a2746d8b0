"""flaxen.core.variables: the ``Variable`` handle (re-exports)."""

from flaxen._src.core.variables import Variable as Variable
