"""The classifiers ``flaxen train --model NAME`` can build.

* ``cnn``: the Quickstart's CNN (two 3x3 convolutions with 32 and 64 features,
  each followed by ReLU and 2x2 average pooling, then Dense(256), ReLU and the
  class logits). On 8x8 digits it has 87,178 parameters; on 28x28 MNIST
  824,458, as the Quickstart's table shows.
* ``mlp``: flatten, Dense(hidden), ReLU, Dense(num_classes).

Both take ``float32[B, H, W, C]`` images and return ``float32[B, num_classes]``
logits, and use only the ``params`` collection (no batch statistics, no
dropout), which is all the CLI's training loop handles.
"""

from __future__ import annotations

from flaxen._src.linen.activation import relu
from flaxen._src.linen.linear import Conv, Dense
from flaxen._src.linen.module import Module, compact
from flaxen._src.linen.pooling import avg_pool


class CNN(Module):
  """Quickstart CNN: Conv-ReLU-AvgPool twice, then Dense-ReLU-Dense."""

  num_classes: int = 10

  @compact
  def __call__(self, x):
    x = Conv(features=32, kernel_size=(3, 3))(x)
    x = avg_pool(relu(x), window_shape=(2, 2), strides=(2, 2))
    x = Conv(features=64, kernel_size=(3, 3))(x)
    x = avg_pool(relu(x), window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))
    x = relu(Dense(features=256)(x))
    return Dense(features=self.num_classes)(x)


class MLP(Module):
  """Flatten, one hidden ReLU layer, logits."""

  hidden: int = 128
  num_classes: int = 10

  @compact
  def __call__(self, x):
    x = x.reshape((x.shape[0], -1))
    x = relu(Dense(features=self.hidden)(x))
    return Dense(features=self.num_classes)(x)


MODELS = {'cnn': CNN, 'mlp': MLP}


def make_model(name: str, num_classes: int = 10) -> Module:
  """A fresh, unbound model by name.

  Raises:
    ValueError: unknown ``name`` (the message lists the known ones).
  """
  try:
    cls = MODELS[name]
  except KeyError:
    raise ValueError(f'unknown model {name!r}; choose one of {sorted(MODELS)}') from None
  return cls(num_classes=num_classes)
