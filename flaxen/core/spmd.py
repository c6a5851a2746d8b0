"""flaxen.core.spmd: logical axis rules and sharding helpers shared by Linen (re-exports)."""

from jax.experimental.layout import Format as Format
from jax.sharding import NamedSharding as NamedSharding
from jax.sharding import PartitionSpec as PartitionSpec

from flaxen._src.core.spmd import apply_rules as apply_rules
from flaxen._src.core.spmd import composite_rules as composite_rules
from flaxen._src.core.spmd import from_sharding_rules as from_sharding_rules
from flaxen._src.core.spmd import get_logical_axis_rules as get_logical_axis_rules
from flaxen._src.core.spmd import get_mesh as get_mesh
from flaxen._src.core.spmd import get_pspec as get_pspec
from flaxen._src.core.spmd import logical_axis_rules as logical_axis_rules
from flaxen._src.core.spmd import map_sharding as map_sharding
from flaxen._src.core.spmd import set_logical_axis_rules as set_logical_axis_rules
from flaxen._src.core.spmd import shard_value as shard_value
from flaxen._src.typing import LogicalRules as LogicalRules
from flaxen._src.typing import Sharding as Sharding
