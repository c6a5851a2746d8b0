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

# --- meta / lift ---
