"""Train a small CNN on handwritten digits: flaxen's main demo.

``python -m flaxen.examples.digits`` trains the Quickstart's CNN (written below
with ``flaxen.linen``) on scikit-learn's 8x8 digits (1,438 train / 359 test
images) for 8 epochs with Adam, printing the train loss/accuracy and the test
accuracy of every epoch (about 98% at the end, in a few seconds on a laptop CPU).
A checkpoint of the ``TrainState`` is saved under ``--workdir`` (default
``runs/digits``) after each epoch; ``--resume`` continues from the newest one,
``--overwrite`` starts over in the same directory (without either, a directory
that already holds checkpoints is left alone and the command says so). With
matplotlib installed the loss curve is written to ``<workdir>/loss.png``.

``--data PATH`` trains on real MNIST instead (a directory with the four idx
files, or an ``.npz`` with ``x_train, y_train, x_test, y_test``); nothing is
downloaded. The digits data needs scikit-learn: ``pip install 'flaxen[demo]'``.

Example::

  python -m flaxen.examples.digits --epochs 4
  python -m flaxen.examples.digits --epochs 8 --resume   # four more epochs
"""

from __future__ import annotations

import argparse
import sys

from flaxen import linen as nn
from flaxen._src.cli.main import add_train_arguments, run_train

EPOCHS = 8


class CNN(nn.Module):
  """The Quickstart's CNN; on 8x8 digits the flattened features are 2x2x64."""

  num_classes: int = 10

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(features=32, kernel_size=(3, 3))(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = nn.Conv(features=64, kernel_size=(3, 3))(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))  # flatten
    x = nn.Dense(features=256)(x)
    x = nn.relu(x)
    x = nn.Dense(features=self.num_classes)(x)
    return x


def main(argv=None) -> int:
  """Parses ``argv`` and runs the training job; returns the exit status."""
  parser = argparse.ArgumentParser(
    prog='python -m flaxen.examples.digits', description=__doc__.splitlines()[0])
  add_train_arguments(parser, default_workdir='runs/digits', epochs=EPOCHS)
  args = parser.parse_args(argv)
  return run_train(args, CNN(), model_name='cnn', prog=parser.prog)


if __name__ == '__main__':
  sys.exit(main())
