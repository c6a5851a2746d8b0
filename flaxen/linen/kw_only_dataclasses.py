"""flaxen.linen.kw_only_dataclasses: dataclasses whose keyword-only fields come last (re-exports)."""

from flaxen._src.linen.module.kw_only_dataclasses import KW_ONLY as KW_ONLY
from flaxen._src.linen.module.kw_only_dataclasses import Annotation as Annotation
from flaxen._src.linen.module.kw_only_dataclasses import Default as Default
from flaxen._src.linen.module.kw_only_dataclasses import FieldName as FieldName
from flaxen._src.linen.module.kw_only_dataclasses import M as M
from flaxen._src.linen.module.kw_only_dataclasses import dataclass as dataclass
from flaxen._src.linen.module.kw_only_dataclasses import field as field
