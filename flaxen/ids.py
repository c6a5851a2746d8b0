"""``flaxen.ids``: globally unique ids that stay unique through copies.

This file only re-exports; see ``flaxen._src.ids``.
"""

from flaxen._src.ids import FlaxId as FlaxId
from flaxen._src.ids import UUIDManager as UUIDManager
from flaxen._src.ids import uuid as uuid
