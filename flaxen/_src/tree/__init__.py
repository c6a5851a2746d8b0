"""Tree utilities at the bottom of the house: FrozenDict, struct dataclasses, traversals.

Nothing here imports other flaxen layers except the base (``public``, ``errors``,
``config``, ``traceback_util``); serialization, the core and Linen build on
these modules. Importing this package also registers flaxen's directory with
JAX's traceback filter (``traceback_util``), since every layer above imports it.
"""

from flaxen._src import traceback_util as _traceback_util  # noqa: F401  (registers filtering)
