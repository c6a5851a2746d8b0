"""flaxen.linen.dtypes: the layers' dtype inference and promotion helpers."""

from flaxen._src.linen.dtypes import T as T
from flaxen._src.linen.dtypes import canonicalize_dtype as canonicalize_dtype
from flaxen._src.linen.dtypes import promote_dtype as promote_dtype
from flaxen._src.typing import Dtype as Dtype
