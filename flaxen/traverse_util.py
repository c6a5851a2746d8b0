"""``flaxen.traverse_util``: flatten/unflatten nested dicts and the Traversal family.

This file only re-exports; see ``flaxen._src.tree.traverse_util`` and
``flaxen._src.tree.traversal``.
"""

from flaxen import struct as struct
from flaxen._src.tree.traversal import ModelParamTraversal as ModelParamTraversal
from flaxen._src.tree.traversal import Traversal as Traversal
from flaxen._src.tree.traversal import TraverseAttr as TraverseAttr
from flaxen._src.tree.traversal import TraverseCompose as TraverseCompose
from flaxen._src.tree.traversal import TraverseEach as TraverseEach
from flaxen._src.tree.traversal import TraverseFilter as TraverseFilter
from flaxen._src.tree.traversal import TraverseId as TraverseId
from flaxen._src.tree.traversal import TraverseItem as TraverseItem
from flaxen._src.tree.traversal import TraverseMerge as TraverseMerge
from flaxen._src.tree.traversal import TraverseTree as TraverseTree
from flaxen._src.tree.traversal import t_identity as t_identity
from flaxen._src.tree.traverse_util import empty_node as empty_node
from flaxen._src.tree.traverse_util import flatten_dict as flatten_dict
from flaxen._src.tree.traverse_util import path_aware_map as path_aware_map
from flaxen._src.tree.traverse_util import unflatten_dict as unflatten_dict
from flaxen._src.typing import PathParts as PathParts
from flaxen._src.typing import VariableDict as VariableDict
