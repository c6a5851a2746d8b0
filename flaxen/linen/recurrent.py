"""flaxen.linen.recurrent: recurrent cells, ``RNN``, ``Bidirectional``, ``flip_sequences``.

This file only re-exports, including the aliases and helpers the reference's
module exposes (``Carry``, ``RNNBase``, ``DenseParams``, ``default_kernel_init``, ...).
"""

from flaxen._src.core.filters import Filter as CollectionFilter
from flaxen._src.core.filters import Filter as PRNGSequenceFilter
from flaxen._src.linen.activation import sigmoid as sigmoid
from flaxen._src.linen.activation import tanh as tanh
from flaxen._src.linen.dtypes import promote_dtype as promote_dtype
from flaxen._src.linen.linear import Conv as Conv
from flaxen._src.linen.linear import Dense as Dense
from flaxen._src.linen.linear import default_kernel_init as default_kernel_init
from flaxen._src.linen.module.compact import compact as compact
from flaxen._src.linen.module.compact import nowrap as nowrap
from flaxen._src.linen.module.module import Module as Module
from flaxen._src.linen.recurrent.base import Carry as Carry
from flaxen._src.linen.recurrent.base import CarryHistory as CarryHistory
from flaxen._src.linen.recurrent.base import Output as Output
from flaxen._src.linen.recurrent.base import RNNCellBase as RNNCellBase
from flaxen._src.linen.recurrent.bidirectional import Bidirectional as Bidirectional
from flaxen._src.linen.recurrent.bidirectional import RNNBase as RNNBase
from flaxen._src.linen.recurrent.conv_lstm import ConvLSTMCell as ConvLSTMCell
from flaxen._src.linen.recurrent.gated import GRUCell as GRUCell
from flaxen._src.linen.recurrent.gated import MGUCell as MGUCell
from flaxen._src.linen.recurrent.gated import SimpleCell as SimpleCell
from flaxen._src.linen.recurrent.lstm import DenseParams as DenseParams
from flaxen._src.linen.recurrent.lstm import LSTMCell as LSTMCell
from flaxen._src.linen.recurrent.lstm import OptimizedLSTMCell as OptimizedLSTMCell
from flaxen._src.linen.recurrent.rnn import RNN as RNN
from flaxen._src.linen.recurrent.rnn import flip_sequences as flip_sequences
from flaxen._src.tree.frozen_dict import FrozenDict as FrozenDict
from flaxen._src.typing import Array as Array
from flaxen._src.typing import Dtype as Dtype
from flaxen._src.typing import Initializer as Initializer
from flaxen._src.typing import InOutScanAxis as InOutScanAxis
from flaxen._src.typing import PrecisionLike as PrecisionLike
from flaxen._src.typing import PRNGKey as PRNGKey
from flaxen.linen import initializers as initializers
from flaxen.linen import transforms as transforms
