"""flaxen.linen.spmd: logical axis names and partitioning helpers (re-exports)."""

from flaxen._src.core.meta import PARTITION_NAME as PARTITION_NAME
from flaxen._src.core.meta import Partitioned as Partitioned
from flaxen._src.core.meta import get_partition_spec as get_partition_spec
from flaxen._src.core.meta import get_sharding as get_sharding
from flaxen._src.core.meta import with_partitioning as with_partitioning
from flaxen._src.core.spmd import get_logical_axis_rules as get_logical_axis_rules
from flaxen._src.core.spmd import logical_axis_rules as logical_axis_rules
from flaxen._src.core.spmd import set_logical_axis_rules as set_logical_axis_rules
from flaxen._src.linen.sharding_plan import PlanEntry as PlanEntry
from flaxen._src.linen.sharding_plan import PlanIssue as PlanIssue
from flaxen._src.linen.sharding_plan import ShardingPlan as ShardingPlan
from flaxen._src.linen.sharding_plan import sharding_plan as sharding_plan
from flaxen._src.linen.spmd import LogicallyPartitioned as LogicallyPartitioned
from flaxen._src.linen.spmd import RulesFallback as RulesFallback
from flaxen._src.linen.spmd import logical_to_mesh as logical_to_mesh
from flaxen._src.linen.spmd import logical_to_mesh_axes as logical_to_mesh_axes
from flaxen._src.linen.spmd import logical_to_mesh_sharding as logical_to_mesh_sharding
from flaxen._src.linen.spmd import with_logical_constraint as with_logical_constraint
from flaxen._src.linen.spmd import with_logical_partitioning as with_logical_partitioning
from flaxen._src.typing import Array as Array
from flaxen._src.typing import ArrayPytree as ArrayPytree
from flaxen._src.typing import LogicalNames as LogicalNames
from flaxen._src.typing import LogicalPartitionSpec as LogicalPartitionSpec
from flaxen._src.typing import LogicalPartitionSpecPytree as LogicalPartitionSpecPytree
from flaxen._src.typing import LogicalRules as LogicalRules
