"""flaxen.linen: the Linen Module system, layers and lifted transforms.

Use as ``from flaxen import linen as nn``. This file only re-exports; each
section below is fed by one public sub-façade.
"""

# --- module system (flaxen.linen.module) ---

# --- transforms (flaxen.linen.transforms) ---

# --- layers: activations / initializers / dtypes ---

# --- layers: linear, pooling, normalization, stochastic, combinators ---

# --- layers: attention ---

# --- layers: recurrent ---

# --- spmd / partitioning / summary ---
