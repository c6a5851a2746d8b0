"""flaxen.core: FrozenDict, the functional core (Scope, init/apply), lift and meta.

This file only re-exports.
"""

# --- frozen_dict (flaxen.core.frozen_dict) ---

# --- functional core (scope, filters, variables, init/apply/bind) ---

# --- meta / lift ---
