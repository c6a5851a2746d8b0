"""Linear layers: dense, einsum, convolutions and embeddings.

``dense.py`` (Dense, DenseGeneral), ``einsum.py`` (Einsum), ``conv.py`` (Conv,
ConvLocal, ConvTranspose) with its pure padding arithmetic in ``conv_utils.py``,
and ``embed.py`` (Embed). This package file only gathers their names.
"""

from flaxen._src.linen.linear.conv import Conv as Conv
from flaxen._src.linen.linear.conv import ConvLocal as ConvLocal
from flaxen._src.linen.linear.conv import ConvTranspose as ConvTranspose
from flaxen._src.linen.linear.conv_utils import canonicalize_padding as canonicalize_padding
from flaxen._src.linen.linear.dense import Dense as Dense
from flaxen._src.linen.linear.dense import DenseGeneral as DenseGeneral
from flaxen._src.linen.linear.dense import default_kernel_init as default_kernel_init
from flaxen._src.linen.linear.einsum import Einsum as Einsum
from flaxen._src.linen.linear.embed import Embed as Embed
from flaxen._src.linen.linear.embed import default_embed_init as default_embed_init
