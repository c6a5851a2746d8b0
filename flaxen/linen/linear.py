"""flaxen.linen.linear: Dense, DenseGeneral, Einsum, convolutions and Embed.

Also re-exports the type aliases and helpers the reference's module exposes
(``PrecisionLike``, ``Dtype``, ``default_kernel_init``, ``promote_dtype``, ...),
since client code imports them from here.
"""

from jax import eval_shape as eval_shape
from jax.core import ShapedArray as ShapedArray

from flaxen._src.linen.dtypes import promote_dtype as promote_dtype
from flaxen._src.linen.linear import Conv as Conv
from flaxen._src.linen.linear import ConvLocal as ConvLocal
from flaxen._src.linen.linear import ConvTranspose as ConvTranspose
from flaxen._src.linen.linear import Dense as Dense
from flaxen._src.linen.linear import DenseGeneral as DenseGeneral
from flaxen._src.linen.linear import Einsum as Einsum
from flaxen._src.linen.linear import Embed as Embed
from flaxen._src.linen.linear import canonicalize_padding as canonicalize_padding
from flaxen._src.linen.linear import default_embed_init as default_embed_init
from flaxen._src.linen.linear import default_kernel_init as default_kernel_init
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.typing import Array as Array
from flaxen._src.typing import ConvGeneralDilatedT as ConvGeneralDilatedT
from flaxen._src.typing import DotGeneralT as DotGeneralT
from flaxen._src.typing import Dtype as Dtype
from flaxen._src.typing import Initializer as Initializer
from flaxen._src.typing import LaxPadding as LaxPadding
from flaxen._src.typing import PaddingLike as PaddingLike
from flaxen._src.typing import PrecisionLike as PrecisionLike
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen._src.typing import PromoteDtypeFn as PromoteDtypeFn
from flaxen._src.typing import Shape as Shape
from flaxen.linen import initializers as initializers
