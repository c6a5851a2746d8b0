"""flaxen.core.variables: the ``Variable`` handle and variable-dict type aliases (re-exports)."""

from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import Filter as PRNGSequenceFilter
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.typing import FrozenVariableDict as FrozenVariableDict
from flaxen._src.typing import MutableVariableDict as MutableVariableDict
from flaxen._src.typing import RNGSequences as RNGSequences
from flaxen._src.typing import VariableDict as VariableDict
