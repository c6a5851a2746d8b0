"""``flaxen.core.frozen_dict``: the immutable, hashable dict used for variables.

This file only re-exports; see ``flaxen._src.tree.frozen_dict``.
"""

from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.tree.frozen_dict import FrozenKeysView as FrozenKeysView
from flaxen._src.tree.frozen_dict import FrozenValuesView as FrozenValuesView
from flaxen._src.tree.frozen_dict import copy as copy
from flaxen._src.tree.frozen_dict import freeze as freeze
from flaxen._src.tree.frozen_dict import pop as pop
from flaxen._src.tree.frozen_dict import pretty_repr as pretty_repr
from flaxen._src.tree.frozen_dict import unfreeze as unfreeze
