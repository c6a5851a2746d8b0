"""flaxen.linen: the Linen Module system, layers and lifted transforms.

Use as ``from flaxen import linen as nn``. This file only re-exports; each
section below is fed by one public sub-façade.
"""

# --- module system (flaxen.linen.module) ---
from flaxen.core import meta as meta
from flaxen.core.frozen_dict import FrozenDict as FrozenDict
from flaxen.core.meta import PARTITION_NAME as PARTITION_NAME
from flaxen.core.meta import unbox as unbox
from flaxen.core.scope import DenyList as DenyList
from flaxen.linen.module import InterceptorContext as InterceptorContext
from flaxen.linen.module import Module as Module
from flaxen.linen.module import Variable as Variable
from flaxen.linen.module import apply as apply
from flaxen.linen.module import compact as compact
from flaxen.linen.module import compact_name_scope as compact_name_scope
from flaxen.linen.module import disable_named_call as disable_named_call
from flaxen.linen.module import enable_named_call as enable_named_call
from flaxen.linen.module import init as init
from flaxen.linen.module import init_with_output as init_with_output
from flaxen.linen.module import intercept_methods as intercept_methods
from flaxen.linen.module import merge_param as merge_param
from flaxen.linen.module import nowrap as nowrap
from flaxen.linen.module import override_named_call as override_named_call
from flaxen.linen.module import share_scope as share_scope

# --- transforms (flaxen.linen.transforms) ---
# isort: split
from flaxen.core import broadcast as broadcast
from flaxen.linen.transforms import add_metadata_axis as add_metadata_axis
from flaxen.linen.transforms import checkpoint as checkpoint
from flaxen.linen.transforms import cond as cond
from flaxen.linen.transforms import custom_vjp as custom_vjp
from flaxen.linen.transforms import fold_rngs as fold_rngs
from flaxen.linen.transforms import grad as grad
from flaxen.linen.transforms import jit as jit
from flaxen.linen.transforms import jvp as jvp
from flaxen.linen.transforms import map_variables as map_variables
from flaxen.linen.transforms import named_call as named_call
from flaxen.linen.transforms import remat as remat
from flaxen.linen.transforms import remat_scan as remat_scan
from flaxen.linen.transforms import scan as scan
from flaxen.linen.transforms import switch as switch
from flaxen.linen.transforms import value_and_grad as value_and_grad
from flaxen.linen.transforms import vjp as vjp
from flaxen.linen.transforms import vmap as vmap
from flaxen.linen.transforms import while_loop as while_loop

# --- layers: activations / initializers / dtypes ---
# isort: split
from flaxen.linen import activation as activation
from flaxen.linen import dtypes as dtypes
from flaxen.linen import initializers as initializers
from flaxen.linen.activation import PReLU as PReLU
from flaxen.linen.activation import celu as celu
from flaxen.linen.activation import elu as elu
from flaxen.linen.activation import gelu as gelu
from flaxen.linen.activation import glu as glu
from flaxen.linen.activation import hard_sigmoid as hard_sigmoid
from flaxen.linen.activation import hard_silu as hard_silu
from flaxen.linen.activation import hard_swish as hard_swish
from flaxen.linen.activation import hard_tanh as hard_tanh
from flaxen.linen.activation import identity as identity
from flaxen.linen.activation import leaky_relu as leaky_relu
from flaxen.linen.activation import log_sigmoid as log_sigmoid
from flaxen.linen.activation import log_softmax as log_softmax
from flaxen.linen.activation import logsumexp as logsumexp
from flaxen.linen.activation import mish as mish
from flaxen.linen.activation import normalize as normalize
from flaxen.linen.activation import one_hot as one_hot
from flaxen.linen.activation import relu as relu
from flaxen.linen.activation import relu6 as relu6
from flaxen.linen.activation import selu as selu
from flaxen.linen.activation import sigmoid as sigmoid
from flaxen.linen.activation import silu as silu
from flaxen.linen.activation import soft_sign as soft_sign
from flaxen.linen.activation import softmax as softmax
from flaxen.linen.activation import softplus as softplus
from flaxen.linen.activation import sparse_plus as sparse_plus
from flaxen.linen.activation import sparse_sigmoid as sparse_sigmoid
from flaxen.linen.activation import squareplus as squareplus
from flaxen.linen.activation import standardize as standardize
from flaxen.linen.activation import swish as swish
from flaxen.linen.activation import tanh as tanh
from flaxen.linen.initializers import ones as ones
from flaxen.linen.initializers import ones_init as ones_init
from flaxen.linen.initializers import zeros as zeros
from flaxen.linen.initializers import zeros_init as zeros_init

# --- layers: linear, pooling, normalization, stochastic, combinators ---
# isort: split
from flaxen.linen.batch_apply import BatchApply as BatchApply
from flaxen.linen.combinators import Sequential as Sequential
from flaxen.linen.linear import Conv as Conv
from flaxen.linen.linear import ConvLocal as ConvLocal
from flaxen.linen.linear import ConvTranspose as ConvTranspose
from flaxen.linen.linear import Dense as Dense
from flaxen.linen.linear import DenseGeneral as DenseGeneral
from flaxen.linen.linear import Einsum as Einsum
from flaxen.linen.linear import Embed as Embed
from flaxen.linen.normalization import BatchNorm as BatchNorm
from flaxen.linen.normalization import GroupNorm as GroupNorm
from flaxen.linen.normalization import InstanceNorm as InstanceNorm
from flaxen.linen.normalization import LayerNorm as LayerNorm
from flaxen.linen.normalization import RMSNorm as RMSNorm
from flaxen.linen.normalization import SpectralNorm as SpectralNorm
from flaxen.linen.normalization import WeightNorm as WeightNorm
from flaxen.linen.pooling import avg_pool as avg_pool
from flaxen.linen.pooling import max_pool as max_pool
from flaxen.linen.pooling import min_pool as min_pool
from flaxen.linen.pooling import pool as pool
from flaxen.linen.stochastic import Dropout as Dropout

# isort: split

# --- layers: attention ---
# isort: split
from flaxen.linen import attention as attention
from flaxen.linen.attention import MultiHeadAttention as MultiHeadAttention
from flaxen.linen.attention import MultiHeadDotProductAttention as MultiHeadDotProductAttention
from flaxen.linen.attention import SelfAttention as SelfAttention
from flaxen.linen.attention import combine_masks as combine_masks
from flaxen.linen.attention import dot_product_attention as dot_product_attention
from flaxen.linen.attention import dot_product_attention_weights as dot_product_attention_weights
from flaxen.linen.attention import make_attention_mask as make_attention_mask
from flaxen.linen.attention import make_causal_mask as make_causal_mask

# --- layers: recurrent ---
# isort: split
from flaxen.linen import recurrent as recurrent
from flaxen.linen.recurrent import RNN as RNN
from flaxen.linen.recurrent import Bidirectional as Bidirectional
from flaxen.linen.recurrent import ConvLSTMCell as ConvLSTMCell
from flaxen.linen.recurrent import GRUCell as GRUCell
from flaxen.linen.recurrent import LSTMCell as LSTMCell
from flaxen.linen.recurrent import MGUCell as MGUCell
from flaxen.linen.recurrent import OptimizedLSTMCell as OptimizedLSTMCell
from flaxen.linen.recurrent import RNNCellBase as RNNCellBase
from flaxen.linen.recurrent import SimpleCell as SimpleCell

# --- spmd / partitioning / summary ---
# isort: split
from flaxen.linen import partitioning as partitioning
from flaxen.linen import spmd as spmd
from flaxen.linen.spmd import LogicallyPartitioned as LogicallyPartitioned
from flaxen.linen.spmd import Partitioned as Partitioned
from flaxen.linen.spmd import PlanEntry as PlanEntry
from flaxen.linen.spmd import PlanIssue as PlanIssue
from flaxen.linen.spmd import RulesFallback as RulesFallback
from flaxen.linen.spmd import ShardingPlan as ShardingPlan
from flaxen.linen.spmd import get_logical_axis_rules as get_logical_axis_rules
from flaxen.linen.spmd import get_partition_spec as get_partition_spec
from flaxen.linen.spmd import get_sharding as get_sharding
from flaxen.linen.spmd import logical_axis_rules as logical_axis_rules
from flaxen.linen.spmd import logical_to_mesh as logical_to_mesh
from flaxen.linen.spmd import logical_to_mesh_axes as logical_to_mesh_axes
from flaxen.linen.spmd import logical_to_mesh_sharding as logical_to_mesh_sharding
from flaxen.linen.spmd import set_logical_axis_rules as set_logical_axis_rules
from flaxen.linen.spmd import sharding_plan as sharding_plan
from flaxen.linen.spmd import with_logical_constraint as with_logical_constraint
from flaxen.linen.spmd import with_logical_partitioning as with_logical_partitioning
from flaxen.linen.spmd import with_partitioning as with_partitioning

# --- summary ---
# isort: split
from flaxen.linen.summary import tabulate as tabulate

# --- fp8 (flaxen.linen.fp8_ops) ---
# isort: split
from flaxen.linen import fp8_ops as fp8_ops
from flaxen.linen.fp8_ops import Fp8DirectDotGeneralOp as Fp8DirectDotGeneralOp
from flaxen.linen.fp8_ops import Fp8DotGeneral as Fp8DotGeneral
from flaxen.linen.fp8_ops import Fp8DotGeneralOp as Fp8DotGeneralOp
from flaxen.linen.fp8_ops import Fp8Einsum as Fp8Einsum
from flaxen.linen.fp8_ops import NANOOFp8DotGeneralOp as NANOOFp8DotGeneralOp
