"""flaxen.linen.module: the Module class and its helpers (re-exports only)."""

from flaxen._src.config import config as config
from flaxen._src.core.filters import DenyList as DenyList
from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import union_filters as union_filters
from flaxen._src.core.scope import Scope as Scope
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.ids import FlaxId as FlaxId
from flaxen._src.ids import uuid as uuid
from flaxen._src.linen.module.base import ModuleBase as ModuleBase
from flaxen._src.linen.module.base import module_field as module_field
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.compact import nowrap as nowrap
from flaxen._src.linen.module.entry import apply as apply
from flaxen._src.linen.module.entry import init as init
from flaxen._src.linen.module.entry import init_with_output as init_with_output
from flaxen._src.linen.module.helpers import merge_param as merge_param
from flaxen._src.linen.module.helpers import share_scope as share_scope
from flaxen._src.linen.module.interceptors import Args as Args
from flaxen._src.linen.module.interceptors import Interceptor as Interceptor
from flaxen._src.linen.module.interceptors import InterceptorContext as InterceptorContext
from flaxen._src.linen.module.interceptors import Kwargs as Kwargs
from flaxen._src.linen.module.interceptors import NextGetter as NextGetter
from flaxen._src.linen.module.interceptors import (
  capture_call_intermediates as capture_call_intermediates,
)
from flaxen._src.linen.module.interceptors import intercept_methods as intercept_methods
from flaxen._src.linen.module.interceptors import run_interceptors as run_interceptors
from flaxen._src.linen.module.methods import Descriptor as Descriptor
from flaxen._src.linen.module.methods import DescriptorWrapper as DescriptorWrapper
from flaxen._src.linen.module.methods import create_descriptor_wrapper as create_descriptor_wrapper
from flaxen._src.linen.module.methods import wrap_descriptor_once as wrap_descriptor_once
from flaxen._src.linen.module.methods import wrap_method_once as wrap_method_once
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.module.name_scope import CompactNameScope as CompactNameScope
from flaxen._src.linen.module.name_scope import compact_name_scope as compact_name_scope
from flaxen._src.linen.module.named_call import disable_named_call as disable_named_call
from flaxen._src.linen.module.named_call import enable_named_call as enable_named_call
from flaxen._src.linen.module.named_call import override_named_call as override_named_call
from flaxen._src.linen.module.sow import tuple_init as tuple_init
from flaxen._src.linen.module.sow import tuple_reduce as tuple_reduce
from flaxen._src.linen.module.state import ParentDescriptor as ParentDescriptor
from flaxen._src.linen.module.state import SetupState as SetupState
from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.typing import FrozenVariableDict as FrozenVariableDict
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import RNGSequences as RNGSequences
from flaxen._src.typing import VariableDict as VariableDict
from flaxen.linen import kw_only_dataclasses as kw_only_dataclasses
