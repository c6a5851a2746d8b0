"""flaxen.linen.initializers: parameter initializers (``nn.initializers``)."""

from flaxen._src.linen.initializers import Initializer as Initializer
from flaxen._src.linen.initializers import constant as constant
from flaxen._src.linen.initializers import delta_orthogonal as delta_orthogonal
from flaxen._src.linen.initializers import glorot_normal as glorot_normal
from flaxen._src.linen.initializers import glorot_uniform as glorot_uniform
from flaxen._src.linen.initializers import he_normal as he_normal
from flaxen._src.linen.initializers import he_uniform as he_uniform
from flaxen._src.linen.initializers import kaiming_normal as kaiming_normal
from flaxen._src.linen.initializers import kaiming_uniform as kaiming_uniform
from flaxen._src.linen.initializers import lecun_normal as lecun_normal
from flaxen._src.linen.initializers import lecun_uniform as lecun_uniform
from flaxen._src.linen.initializers import normal as normal
from flaxen._src.linen.initializers import ones as ones
from flaxen._src.linen.initializers import ones_init as ones_init
from flaxen._src.linen.initializers import orthogonal as orthogonal
from flaxen._src.linen.initializers import truncated_normal as truncated_normal
from flaxen._src.linen.initializers import uniform as uniform
from flaxen._src.linen.initializers import variance_scaling as variance_scaling
from flaxen._src.linen.initializers import xavier_normal as xavier_normal
from flaxen._src.linen.initializers import xavier_uniform as xavier_uniform
from flaxen._src.linen.initializers import zeros as zeros
from flaxen._src.linen.initializers import zeros_init as zeros_init
