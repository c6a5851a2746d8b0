"""The ``broadcast`` marker is a picklable singleton."""

import pickle

from flaxen import linen as nn
from flaxen.core import broadcast


def test_broadcast_singleton():
  assert repr(broadcast) == "broadcast"
  assert pickle.loads(pickle.dumps(broadcast)) is broadcast
  assert nn.broadcast is broadcast
