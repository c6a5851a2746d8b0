"""``flaxen.struct``: dataclasses that are JAX pytrees.

This file only re-exports; see ``flaxen._src.tree.struct``.
"""

from typing_extensions import dataclass_transform as dataclass_transform

from flaxen import serialization as serialization
from flaxen._src.tree.struct import PyTreeNode as PyTreeNode
from flaxen._src.tree.struct import TNode as TNode
from flaxen._src.tree.struct import dataclass as dataclass
from flaxen._src.tree.struct import field as field
