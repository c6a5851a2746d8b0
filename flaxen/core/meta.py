"""flaxen.core.meta: axis-metadata boxes (``Partitioned``) and their helpers (re-exports)."""

from flaxen._src.core.meta import PARTITION_NAME as PARTITION_NAME
from flaxen._src.core.meta import AxisMetadata as AxisMetadata
from flaxen._src.core.meta import Partitioned as Partitioned
from flaxen._src.core.meta import TAxisMetadata as TAxisMetadata
from flaxen._src.core.meta import add_axis as add_axis
from flaxen._src.core.meta import get_global_mesh as get_global_mesh
from flaxen._src.core.meta import get_partition_spec as get_partition_spec
from flaxen._src.core.meta import get_sharding as get_sharding
from flaxen._src.core.meta import global_mesh_defined as global_mesh_defined
from flaxen._src.core.meta import is_axis_metadata as is_axis_metadata
from flaxen._src.core.meta import map_axis_meta as map_axis_meta
from flaxen._src.core.meta import remove_axis as remove_axis
from flaxen._src.core.meta import replace_boxed as replace_boxed
from flaxen._src.core.meta import unbox as unbox
from flaxen._src.core.meta import with_partitioning as with_partitioning
from flaxen._src.typing import LogicalNames as LogicalNames
