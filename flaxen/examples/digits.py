"""Train a small CNN on handwritten digits with the public training loop: flaxen's demo.

``python -m flaxen.examples.digits`` trains the Quickstart's CNN (written below
with ``flaxen.linen``) on scikit-learn's 8x8 digits (1,438 train / 359 test
images) for 8 epochs with Adam through ``flaxen.training.fit``, printing the
train and test loss/accuracy of every epoch (about 98% test accuracy at the end,
in a few seconds on a laptop CPU).

Everything it uses is public API: ``flaxen.linen`` for the model,
``flaxen.training.loop`` (``fit``, ``ArrayBatches``) and
``flaxen.training.callbacks`` (progress bar, plot). The work directory
(default ``runs/digits``) receives a checkpoint after every epoch,
``history.jsonl``, ``metrics.csv`` (plus TensorBoard event files when
tensorboardX is installed) and ``loss.png`` (when matplotlib is installed).
``--resume`` continues from the newest checkpoint, ``--overwrite`` starts over;
without either, a directory that already holds a run is left alone and the
command says so. Needs scikit-learn: ``pip install 'flaxen[demo]'``.

Example::

  python -m flaxen.examples.digits --epochs 4
  python -m flaxen.examples.digits --epochs 8 --resume   # four more epochs
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import optax

from flaxen import linen as nn
from flaxen.training import callbacks
from flaxen.training.loop import ArrayBatches, WorkdirError, fit

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


def load_digits(test_fraction: float = 0.2, seed: int = 0):
  """scikit-learn's digits as ``float32[N, 8, 8, 1]`` in [0, 1], split train/test."""
  from sklearn.datasets import load_digits as sklearn_digits

  raw = sklearn_digits()
  images = (np.asarray(raw.images, np.float32) / np.float32(16.0))[..., None]
  labels = np.asarray(raw.target, np.int32)
  order = np.random.default_rng(seed).permutation(len(labels))
  n_test = round(len(labels) * test_fraction)
  test, train = order[:n_test], order[n_test:]
  return (images[train], labels[train]), (images[test], labels[test])


def main(argv=None) -> int:
  """Parses ``argv`` and trains; returns the exit status."""
  parser = argparse.ArgumentParser(prog='python -m flaxen.examples.digits',
                                   description=__doc__.splitlines()[0])
  parser.add_argument('--epochs', type=int, default=EPOCHS)
  parser.add_argument('--batch-size', type=int, default=32)
  parser.add_argument('--lr', type=float, default=3e-3)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--train-subset', type=int, default=None, metavar='N')
  parser.add_argument('--workdir', default='runs/digits')
  parser.add_argument('--progress', choices=('auto', 'rich', 'plain'), default='auto')
  mode = parser.add_mutually_exclusive_group()
  mode.add_argument('--resume', action='store_true')
  mode.add_argument('--overwrite', action='store_true')
  args = parser.parse_args(argv)

  (train_x, train_y), (test_x, test_y) = load_digits()
  train_x, train_y = train_x[:args.train_subset], train_y[:args.train_subset]
  bar = callbacks.ProgressBar(args.progress)
  plot = callbacks.PlotHistory(title='CNN on digits')
  bar.message(f'training the CNN on {len(train_y)} digits, testing on {len(test_y)}')
  try:
    result = fit(
      CNN(), optax.adam(args.lr),
      ArrayBatches(train_x, train_y, args.batch_size, seed=args.seed),
      eval_data=ArrayBatches(test_x, test_y, 500, shuffle=False),
      epochs=args.epochs, seed=args.seed, callbacks=[bar, plot],
      workdir=args.workdir, resume=args.resume, overwrite=args.overwrite,
    )
  except WorkdirError as e:
    print(f'{parser.prog}: error: {e}', file=sys.stderr)
    return 2
  if result.history:
    print(f'test accuracy {100 * result.history[-1]["eval_accuracy"]:.2f}%')
  if plot.written:
    print(f'loss and accuracy curves: {plot.written}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
