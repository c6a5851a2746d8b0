"""The Linen Module system, one concept per file.

``module.py`` holds the ``Module`` class; it delegates to ``dataclass.py``
(subclass -> dataclass with trailing ``parent``/``name``), ``naming.py`` (auto
names, adoption of submodules), ``setup.py`` (lazy setup state machine),
``methods.py`` (wrapping of user methods), ``compact.py``, ``context.py``
(module stack), ``interceptors.py``, ``sow.py``, ``entry.py`` (init/apply/bind)
and ``repr.py``.
"""

from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.compact import nowrap as nowrap
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.helpers import share_scope as share_scope
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.module.name_scope import compact_name_scope as compact_name_scope
