"""The Linen Module system, one concept per file.

``module.py`` holds the ``Module`` class; ``state.py`` owns the per-instance
state (every write goes through it); the class delegates to ``dataclass.py``
(subclass -> dataclass with trailing ``parent``/``name``), ``naming.py`` (auto
names, adoption of submodules), ``setup.py`` (lazy setup state machine),
``methods.py`` (wrapping of user methods), ``compact.py`` (``@compact``,
``@nowrap``), ``name_scope.py`` (``compact_name_scope``), ``context.py`` (module
stack on contextvars), ``interceptors.py`` (``intercept_methods``, capture of
intermediates), ``named_call.py``, ``sow.py`` (``sow``/``perturb``),
``entry.py`` (init/apply/bind/unbind/clone), ``paths.py`` (``module_paths``),
``helpers.py`` (``merge_param``, ``share_scope``), ``repr.py``, ``base.py``
(the marker base class, a ``dataclass_transform``, and the unspecified-parent
sentinel) and ``kw_only_dataclasses.py`` (keyword-only fields declared last,
also the public ``flaxen.linen.kw_only_dataclasses``).

The names other parts of flaxen import are re-exported here.
"""

from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.compact import nowrap as nowrap
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.helpers import share_scope as share_scope
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.module.name_scope import compact_name_scope as compact_name_scope
