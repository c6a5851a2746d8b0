"""Each public module exports the names SPEC.md lists for it (DESIGN.md §2).

The lists below are SPEC.md's inventory (§1.1–§1.14) plus the names today's Linen
adds that the golden data uses (`Einsum`, `MGUCell`, `compact_name_scope`, ...).
"""

import importlib

import pytest

LINEN = """
Module Variable apply init init_with_output compact nowrap enable_named_call disable_named_call
override_named_call tabulate merge_param intercept_methods share_scope compact_name_scope
Dense DenseGeneral Einsum Conv ConvTranspose ConvLocal Embed
BatchNorm LayerNorm GroupNorm RMSNorm InstanceNorm SpectralNorm WeightNorm
max_pool avg_pool pool min_pool
dot_product_attention_weights dot_product_attention make_attention_mask make_causal_mask
combine_masks MultiHeadDotProductAttention MultiHeadAttention SelfAttention
Dropout
RNNCellBase LSTMCell OptimizedLSTMCell GRUCell MGUCell SimpleCell ConvLSTMCell RNN Bidirectional
PReLU celu elu gelu glu hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu log_sigmoid
log_softmax logsumexp one_hot relu relu6 selu sigmoid silu soft_sign softmax softplus
standardize swish tanh normalize
initializers zeros ones zeros_init ones_init
Sequential
vmap scan jit remat checkpoint remat_scan map_variables jvp vjp custom_vjp while_loop cond switch
named_call add_metadata_axis grad value_and_grad fold_rngs
Partitioned with_partitioning get_partition_spec get_sharding LogicallyPartitioned
logical_axis_rules set_logical_axis_rules get_logical_axis_rules logical_to_mesh_axes
logical_to_mesh logical_to_mesh_sharding with_logical_constraint with_logical_partitioning
PARTITION_NAME RulesFallback meta unbox
DenyList FrozenDict broadcast
""".split()

SURFACE = {
  "flaxen.linen": LINEN,
  "flaxen.linen.initializers": """
    constant delta_orthogonal glorot_normal glorot_uniform he_normal he_uniform kaiming_normal
    kaiming_uniform lecun_normal lecun_uniform normal ones ones_init orthogonal uniform
    variance_scaling xavier_normal xavier_uniform zeros zeros_init truncated_normal Initializer
  """.split(),
  "flaxen.core": """
    FrozenDict freeze unfreeze copy pop pretty_repr Scope init apply bind lazy_init DenyList
    broadcast lift meta spmd
  """.split(),
  "flaxen.core.frozen_dict": "FrozenDict freeze unfreeze copy pop pretty_repr".split(),
  "flaxen.core.lift": """
    pack vmap scan jit remat checkpoint remat_scan while_loop cond switch custom_vjp vjp jvp
    map_variables
  """.split(),
  "flaxen.core.meta": """
    AxisMetadata Partitioned with_partitioning get_partition_spec get_sharding unbox
    is_axis_metadata map_axis_meta add_axis remove_axis replace_boxed PARTITION_NAME
    get_global_mesh global_mesh_defined
  """.split(),
  "flaxen.core.spmd": """
    logical_axis_rules get_logical_axis_rules set_logical_axis_rules composite_rules
    from_sharding_rules apply_rules get_pspec map_sharding get_mesh shard_value
  """.split(),
  "flaxen.linen.partitioning": """
    param_with_axes variable_with_axes get_axis_names with_sharding_constraint ScanIn ScanOut
    scan_with_axes vmap_with_axes axis_rules get_axis_rules set_axis_rules logical_to_mesh_axes
    logical_to_mesh PartitionedVariable RulesFallback AxisMetadata remat core_remat_static
    LogicalRules ArrayPytree LogicalPartitionSpec LogicalPartitionSpecPytree PartitionSpecPytree
    InOutAxis InOutScanAxis CollectionFilter PRNGSequenceFilter
  """.split(),
  "flaxen.struct": "dataclass field PyTreeNode".split(),
  "flaxen.serialization": """
    to_state_dict from_state_dict register_serialization_state msgpack_serialize
    msgpack_restore to_bytes from_bytes current_path MAX_CHUNK_SIZE
  """.split(),
  "flaxen.traverse_util": """
    Traversal TraverseId TraverseMerge TraverseCompose TraverseFilter TraverseAttr TraverseItem
    TraverseEach TraverseTree flatten_dict unflatten_dict path_aware_map ModelParamTraversal
    t_identity empty_node
  """.split(),
  "flaxen.jax_utils": """
    partial_eval_by_shape replicate unreplicate prefetch_to_device pmean pad_shard_unpad
    scan_in_dim
  """.split(),
  "flaxen.training.checkpoints": """
    save_checkpoint save_checkpoint_multiprocess latest_checkpoint restore_checkpoint
    convert_pre_linen available_steps natural_sort AsyncManager
  """.split(),
  "flaxen.training.train_state": ["TrainState"],
  "flaxen.training.lr_schedule": """
    create_constant_learning_rate_schedule create_stepped_learning_rate_schedule
    create_cosine_learning_rate_schedule
  """.split(),
  "flaxen.training.early_stopping": ["EarlyStopping"],
  "flaxen.training.common_utils": "shard shard_prng_key stack_forest get_metrics onehot".split(),
  "flaxen.training.dynamic_scale": ["DynamicScale"],
  "flaxen.training.prefetch_iterator": ["PrefetchIterator"],
  "flaxen.errors": """
    FlaxError AlreadyExistsError ApplyModuleInvalidMethodError
    ApplyScopeInvalidVariablesStructureError ApplyScopeInvalidVariablesTypeError
    AssignSubModuleError CallCompactUnboundModuleError CallSetupUnboundModuleError
    CallUnbindOnUnboundModuleError DescriptorAttributeError IncorrectPostInitOverrideError
    InvalidCheckpointError InvalidFilterError InvalidInstanceModuleError InvalidRngError
    InvalidScopeError JaxTransformError LazyInitError MPACheckpointingRequiredError
    MPARestoreDataCorruptedError MPARestoreTargetRequiredError MPARestoreTypeNotMatchError
    ModifyScopeVariableError MultipleMethodsCompactError NameInUseError
    PartitioningUnspecifiedError ReservedModuleAttributeError ScopeCollectionNotFound
    ScopeParamNotFoundError ScopeParamShapeError ScopeVariableNotFoundError
    SetAttributeFrozenModuleError SetAttributeInModuleSetupError TransformTargetError
    TransformedMethodReturnValueError
  """.split(),
  "flaxen.configurations": "config define_bool_state static_bool_env".split(),
  "flaxen.traceback_util": "hide_flax_in_tracebacks show_flax_in_tracebacks".split(),
}


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_public_names(module):
  mod = importlib.import_module(module)
  missing = [n for n in SURFACE[module] if not hasattr(mod, n)]
  assert not missing, f"{module} lacks {missing}"


def test_errors_are_flax_errors():
  from flaxen import errors

  for name in SURFACE["flaxen.errors"]:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.FlaxError), name
    assert cls.__doc__ and len(cls.__doc__) > 40, f"{name} needs a docstring (cause and fix)"
