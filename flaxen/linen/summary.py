"""flaxen.linen.summary: ``tabulate`` (also ``nn.tabulate`` and ``Module.tabulate``) and the
summary as data: ``Row``, ``Table``, ``module_summary``.

This file only re-exports; see ``flaxen._src.linen.summary``.
"""

from flaxen._src.core import meta as meta
from flaxen._src.core.filters import DenyList as DenyList
from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.rng import LazyRng as LazyRng
from flaxen._src.linen.summary import Row as Row
from flaxen._src.linen.summary import Table as Table
from flaxen._src.linen.summary import _get_module_table as _get_module_table
from flaxen._src.linen.summary import module_summary as module_summary
from flaxen._src.linen.summary import tabulate as tabulate
from flaxen._src.tree.frozen_dict import unfreeze as unfreeze
from flaxen._src.typing import Array as Array
from flaxen._src.typing import FrozenVariableDict as FrozenVariableDict
from flaxen._src.typing import LogicalNames as LogicalNames
from flaxen._src.typing import MutableVariableDict as MutableVariableDict
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import RNGSequences as RNGSequences
