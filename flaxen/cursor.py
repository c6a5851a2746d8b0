"""``flaxen.cursor``: build modified copies of nested immutable data, one change at a time.

This file only re-exports; see ``flaxen._src.cursor``.
"""

from flaxen._src.cursor import AccessType as AccessType
from flaxen._src.cursor import Cursor as Cursor
from flaxen._src.cursor import Indexable as Indexable
from flaxen._src.cursor import ParentKey as ParentKey
from flaxen._src.cursor import cursor as cursor
from flaxen._src.cursor import is_named_tuple as is_named_tuple
from flaxen._src.errors import CursorFindError as CursorFindError
from flaxen._src.errors import TraverseTreeError as TraverseTreeError
from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.typing import Key as Key
