"""flaxen.linen.linear: Dense, DenseGeneral, Einsum, convolutions and Embed."""

from flaxen._src.linen.linear import Conv as Conv
from flaxen._src.linen.linear import ConvLocal as ConvLocal
from flaxen._src.linen.linear import ConvTranspose as ConvTranspose
from flaxen._src.linen.linear import Dense as Dense
from flaxen._src.linen.linear import DenseGeneral as DenseGeneral
from flaxen._src.linen.linear import Einsum as Einsum
from flaxen._src.linen.linear import Embed as Embed
from flaxen._src.linen.linear import PaddingLike as PaddingLike
from flaxen._src.linen.linear import canonicalize_padding as canonicalize_padding
