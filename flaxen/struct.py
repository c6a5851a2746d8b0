"""``flaxen.struct``: frozen dataclasses that are JAX pytrees.

This file only re-exports; see ``flaxen._src.tree.struct``.
"""

from flaxen._src.tree.struct import PyTreeNode as PyTreeNode
from flaxen._src.tree.struct import dataclass as dataclass
from flaxen._src.tree.struct import field as field
