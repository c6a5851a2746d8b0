"""flaxen: a Linen-compatible neural-network library on JAX.

Change ``from flax import linen as nn`` to ``from flaxen import linen as nn``.

As with ``import flax``, ``import flaxen`` alone makes these attributes
reachable: ``config`` (the configuration object, see ``flaxen.configurations``),
``core``, ``errors``, ``ids``, ``jax_utils``, ``linen``, ``serialization``,
``struct``, ``traceback_util``, ``traverse_util`` and ``typing``, plus
``__version__``. ``flaxen.training``, ``flaxen.cursor`` and ``flaxen.io`` are
imported explicitly, as in the reference.
"""

from flaxen import core as core
from flaxen import errors as errors
from flaxen import ids as ids
from flaxen import jax_utils as jax_utils
from flaxen import linen as linen
from flaxen import serialization as serialization
from flaxen import struct as struct
from flaxen import traceback_util as traceback_util
from flaxen import traverse_util as traverse_util
from flaxen import typing as typing
from flaxen.configurations import config as config
from flaxen.version import __version__ as __version__
