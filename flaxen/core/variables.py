"""flaxen.core.variables: the ``Variable`` handle and variable-dict type aliases (re-exports)."""

from flaxen._src.core.variables import CollectionFilter as CollectionFilter
from flaxen._src.core.variables import FrozenVariableDict as FrozenVariableDict
from flaxen._src.core.variables import MutableVariableDict as MutableVariableDict
from flaxen._src.core.variables import PRNGSequenceFilter as PRNGSequenceFilter
from flaxen._src.core.variables import RNGSequences as RNGSequences
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.core.variables import VariableDict as VariableDict
