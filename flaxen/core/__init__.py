"""flaxen.core: FrozenDict, the functional core (Scope, init/apply), lift and meta.

This file only re-exports.
"""

# --- frozen_dict (flaxen.core.frozen_dict) ---
from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.tree.frozen_dict import copy as copy
from flaxen._src.tree.frozen_dict import freeze as freeze
from flaxen._src.tree.frozen_dict import pop as pop
from flaxen._src.tree.frozen_dict import pretty_repr as pretty_repr
from flaxen._src.tree.frozen_dict import unfreeze as unfreeze

# --- functional core (scope, filters, variables, init/apply/bind) ---
# isort: split
from flaxen._src.core.broadcast import broadcast as broadcast
from flaxen.core import scope as scope
from flaxen.core import tracers as tracers
from flaxen.core import variables as variables
from flaxen.core.scope import DenyList as DenyList
from flaxen.core.scope import LazyRng as LazyRng
from flaxen.core.scope import Scope as Scope
from flaxen.core.scope import Variable as Variable
from flaxen.core.scope import apply as apply
from flaxen.core.scope import bind as bind
from flaxen.core.scope import init as init
from flaxen.core.scope import lazy_init as lazy_init

# --- meta / lift ---
# isort: split
from flaxen.core import lift as lift
from flaxen.core import meta as meta
from flaxen.core import spmd as spmd
from flaxen.core.meta import AxisMetadata as AxisMetadata
from flaxen.core.meta import Partitioned as Partitioned
from flaxen.core.meta import unbox as unbox

# --- type aliases (the reference exposes Array here) ---
# isort: split
from flaxen._src.typing import Array as Array
from flaxen.core.meta import map_axis_meta as map_axis_meta
