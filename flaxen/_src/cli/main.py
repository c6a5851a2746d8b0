"""The ``flaxen`` command (also ``python -m flaxen``): ``train``, ``info``, ``--version``.

``flaxen train`` trains a built-in classifier (``--model cnn``/``mlp``) or the
user's own Linen module (``--model package.module:attr``) on scikit-learn's
digits or local MNIST files, through the public ``flaxen.training`` loop;
settings come from flags and ``--config FILE`` (TOML or YAML). ``flaxen info``
prints a model's parameter table (``--json`` for tools).

``main(argv)`` returns the exit status: 0 on success, 2 for a usage or input
problem, 1 when the run fails (training diverged, the disk filled up), 130 when
interrupted; every failure is one ``prog: error: ...`` line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from flaxen._src.cli import data as data_lib
from flaxen._src.cli.info import run_info
from flaxen._src.cli.models import MODELS, ModelError, load_model
from flaxen._src.cli.options import (
  OneLineParser,
  UsageError,
  add_train_flags,
  print_error,
  settings,
)
from flaxen._src.cli.train import USAGE, run_train


def version() -> str:
  """The installed flaxen's version (``flaxen.__version__``)."""
  # ``flaxen`` is always imported before any of its submodules; reading the
  # attribute keeps the version defined once, in the package itself.
  return getattr(sys.modules.get('flaxen'), '__version__', 'unknown')


def build_parser(prog: str = 'flaxen') -> argparse.ArgumentParser:
  parser = OneLineParser(prog=prog, description='Train and inspect flaxen models.')
  parser.add_argument('--version', action='version', version=f'flaxen {version()}')
  sub = parser.add_subparsers(dest='command', metavar='COMMAND')
  sub.required = True
  train = sub.add_parser(
    'train', help='train a model (built-in or yours) with checkpoints and resume',
    description='Train an image classifier with per-epoch checkpoints, metrics (CSV, '
                'TensorBoard) and resume. Settings: flags, or --config FILE (TOML/YAML).')
  add_train_flags(train)
  train.add_argument('--traceback', action='store_true',
                     help='let unexpected errors show their traceback')
  info = sub.add_parser('info', help="print a model's parameter table",
                        description="Print a model's tabulate table and parameter count.")
  info.add_argument('--model', default='cnn',
                    help=f'{", ".join(sorted(MODELS))} or package.module:attr (default: cnn)')
  info.add_argument('--data', metavar='PATH', default=None,
                    help='take the input shape from this MNIST data (default: 8x8 digits)')
  info.add_argument('--depth', type=int, default=None, help='table depth (default: all)')
  info.add_argument('--json', action='store_true', help='print JSON (for tools)')
  return parser


def _info(args: argparse.Namespace, out: TextIO, err: TextIO | None) -> int:
  prog = 'flaxen info'
  shape: tuple[int, ...]
  try:
    if args.data is None:
      shape, classes = data_lib.DIGITS_SHAPE, 10
    else:
      dataset = data_lib.load_dataset(args.data)
      shape, classes = dataset.image_shape, dataset.num_classes
    model = load_model(args.model, classes)
  except (ModelError, data_lib.DataError, data_lib.MissingExtraError) as e:
    print_error(prog, e, err)
    return USAGE
  return run_info(model, args.model, shape, depth=args.depth, as_json=args.json, out=out)


def main(argv: Sequence[str] | None = None, *, prog: str = 'flaxen',
         out: TextIO | None = None, err: TextIO | None = None) -> int:
  """Entry point of the ``flaxen`` script; returns the exit status."""
  out = out if out is not None else sys.stdout
  args = build_parser(prog).parse_args(argv)
  if args.command == 'info':
    return _info(args, out, err)
  traceback = args.traceback
  del args.traceback
  try:
    s = settings(args)
  except UsageError as e:
    print_error(f'{prog} train', e, err)
    return USAGE
  return run_train(s, prog=f'{prog} train', out=out, err=err, traceback=traceback)


if __name__ == '__main__':
  sys.exit(main())
