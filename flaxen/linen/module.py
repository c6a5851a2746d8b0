"""flaxen.linen.module: the Module class and its helpers (re-exports only)."""

from flaxen._src.core.filters import DenyList as DenyList
from flaxen._src.core.scope import Scope as Scope
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.compact import nowrap as nowrap
from flaxen._src.linen.module.entry import apply as apply
from flaxen._src.linen.module.entry import init as init
from flaxen._src.linen.module.entry import init_with_output as init_with_output
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.helpers import share_scope as share_scope
from flaxen._src.linen.module.interceptors import InterceptorContext as InterceptorContext
from flaxen._src.linen.module.interceptors import intercept_methods as intercept_methods
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.module.name_scope import compact_name_scope as compact_name_scope
from flaxen._src.linen.module.named_call import disable_named_call as disable_named_call
from flaxen._src.linen.module.named_call import enable_named_call as enable_named_call
from flaxen._src.linen.module.named_call import override_named_call as override_named_call
