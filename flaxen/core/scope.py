"""flaxen.core.scope: the Scope, collection filters and functional entry points (re-exports)."""

from flaxen._src.core.entry import apply as apply
from flaxen._src.core.entry import bind as bind
from flaxen._src.core.entry import init as init
from flaxen._src.core.entry import lazy_init as lazy_init
from flaxen._src.core.filters import DenyList as DenyList
from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import Filter as Filter
from flaxen._src.core.filters import filter_to_set as filter_to_set
from flaxen._src.core.filters import group_collections as group_collections
from flaxen._src.core.filters import in_filter as in_filter
from flaxen._src.core.filters import intersect_filters as intersect_filters
from flaxen._src.core.filters import subtract_filters as subtract_filters
from flaxen._src.core.filters import union_filters as union_filters
from flaxen._src.core.rng import LazyRng as LazyRng
from flaxen._src.core.scope import Scope as Scope
from flaxen._src.core.variables import PRNGSequenceFilter as PRNGSequenceFilter
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.typing import Array as Array
from flaxen._src.typing import Collection as Collection
from flaxen._src.typing import FrozenVariableDict as FrozenVariableDict
from flaxen._src.typing import MutableCollection as MutableCollection
from flaxen._src.typing import MutableVariableDict as MutableVariableDict
from flaxen._src.typing import PRNGFoldable as PRNGFoldable
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import RNGSequences as RNGSequences
from flaxen._src.typing import VariableDict as VariableDict
