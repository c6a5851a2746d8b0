"""Recurrent layers: cells (one time step) and the ``RNN``/``Bidirectional`` wrappers.

``base`` defines the cell interface, ``lstm``/``gated``/``conv_lstm`` the cells,
``rnn`` the scan over time and ``flip_sequences``, ``bidirectional`` the
two-direction wrapper. The public façade is ``flaxen.linen.recurrent``.
"""

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
