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

# --- meta / lift / tracers ---
# isort: split
from flaxen.core import axes_scan as axes_scan
from flaxen.core import frozen_dict as frozen_dict
from flaxen.core import lift as lift
from flaxen.core import meta as meta
from flaxen.core import partial_eval as partial_eval
from flaxen.core import spmd as spmd
from flaxen.core.lift import custom_vjp as custom_vjp
from flaxen.core.lift import jit as jit
from flaxen.core.lift import jvp as jvp
from flaxen.core.lift import remat as remat
from flaxen.core.lift import remat_scan as remat_scan
from flaxen.core.lift import scan as scan
from flaxen.core.lift import vjp as vjp
from flaxen.core.lift import vmap as vmap
from flaxen.core.lift import while_loop as while_loop
from flaxen.core.meta import AxisMetadata as AxisMetadata
from flaxen.core.meta import Partitioned as Partitioned
from flaxen.core.meta import map_axis_meta as map_axis_meta
from flaxen.core.meta import unbox as unbox
from flaxen.core.tracers import check_trace_level as check_trace_level
from flaxen.core.tracers import current_trace as current_trace

# --- types ---
# isort: split
from flaxen._src.typing import Array as Array
