"""flaxen.linen.transforms: lifted transformations for Modules (re-exports)."""

from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import Filter as PRNGSequenceFilter
from flaxen._src.core.rng import LazyRng as LazyRng
from flaxen._src.core.scope import Scope as Scope
from flaxen._src.core.variables import Variable as Variable
from flaxen._src.ids import FlaxId as FlaxId
from flaxen._src.linen.module.methods import wrap_method_once as wrap_method_once
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.transforms import add_metadata_axis as add_metadata_axis
from flaxen._src.linen.transforms import checkpoint as checkpoint
from flaxen._src.linen.transforms import cond as cond
from flaxen._src.linen.transforms import custom_vjp as custom_vjp
from flaxen._src.linen.transforms import fold_rngs as fold_rngs
from flaxen._src.linen.transforms import grad as grad
from flaxen._src.linen.transforms import jit as jit
from flaxen._src.linen.transforms import jvp as jvp
from flaxen._src.linen.transforms import map_variables as map_variables
from flaxen._src.linen.transforms import named_call as named_call
from flaxen._src.linen.transforms import remat as remat
from flaxen._src.linen.transforms import remat_scan as remat_scan
from flaxen._src.linen.transforms import scan as scan
from flaxen._src.linen.transforms import switch as switch
from flaxen._src.linen.transforms import value_and_grad as value_and_grad
from flaxen._src.linen.transforms import vjp as vjp
from flaxen._src.linen.transforms import vmap as vmap
from flaxen._src.linen.transforms import while_loop as while_loop
from flaxen._src.linen.transforms.bridge import C as C
from flaxen._src.linen.transforms.bridge import ModuleT as ModuleT
from flaxen._src.linen.transforms.bridge import Target as Target
from flaxen._src.linen.transforms.bridge import TransformTarget as TransformTarget
from flaxen._src.linen.transforms.bridge import decorator_lift_transform as decorator_lift_transform
from flaxen._src.linen.transforms.bridge import fork_rngs as fork_rngs
from flaxen._src.linen.transforms.bridge import get_module_scopes as get_module_scopes
from flaxen._src.linen.transforms.bridge import lift_direct_transform as lift_direct_transform
from flaxen._src.linen.transforms.bridge import lift_transform as lift_transform
from flaxen._src.linen.transforms.bridge import (
  module_class_lift_transform as module_class_lift_transform,
)
from flaxen._src.linen.transforms.bridge import set_module_scopes as set_module_scopes
from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.typing import InOutAxis as InOutAxis
from flaxen._src.typing import InOutScanAxis as InOutScanAxis
