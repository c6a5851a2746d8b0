"""Recurrent layers: cells (one time step) and the ``RNN``/``Bidirectional`` wrappers.

``base`` defines the cell interface, ``lstm``/``gated``/``conv_lstm`` the cells,
``rnn`` the scan over time and ``flip_sequences``, ``bidirectional`` the
two-direction wrapper. The public façade is ``flaxen.linen.recurrent``.
"""

from flaxen._src.linen.recurrent.base import RNNCellBase
from flaxen._src.linen.recurrent.bidirectional import Bidirectional
from flaxen._src.linen.recurrent.conv_lstm import ConvLSTMCell
from flaxen._src.linen.recurrent.gated import GRUCell, MGUCell, SimpleCell
from flaxen._src.linen.recurrent.lstm import LSTMCell, OptimizedLSTMCell
from flaxen._src.linen.recurrent.rnn import RNN, flip_sequences
