"""flaxen: a Linen-compatible neural-network library on JAX.

Change ``from flax import linen as nn`` to ``from flaxen import linen as nn``.
``flaxen.config`` is the configuration object (see ``flaxen.configurations``).
"""

from flaxen.configurations import config as config

__version__ = "0.1.0.dev0"
