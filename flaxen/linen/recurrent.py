"""flaxen.linen.recurrent: recurrent cells, ``RNN``, ``Bidirectional``, ``flip_sequences``.

This file only re-exports.
"""

from flaxen._src.linen.recurrent.base import RNNCellBase as RNNCellBase
from flaxen._src.linen.recurrent.bidirectional import Bidirectional as Bidirectional
from flaxen._src.linen.recurrent.conv_lstm import ConvLSTMCell as ConvLSTMCell
from flaxen._src.linen.recurrent.gated import GRUCell as GRUCell
from flaxen._src.linen.recurrent.gated import MGUCell as MGUCell
from flaxen._src.linen.recurrent.gated import SimpleCell as SimpleCell
from flaxen._src.linen.recurrent.lstm import LSTMCell as LSTMCell
from flaxen._src.linen.recurrent.lstm import OptimizedLSTMCell as OptimizedLSTMCell
from flaxen._src.linen.recurrent.rnn import RNN as RNN
from flaxen._src.linen.recurrent.rnn import flip_sequences as flip_sequences
