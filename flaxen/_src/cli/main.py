"""The ``flaxen`` command: ``flaxen train`` and ``flaxen info``.

``flaxen train --model cnn --epochs 3 --workdir runs/digits --seed 0`` trains on
scikit-learn's digits (or on local MNIST files with ``--data PATH``), printing
one line per epoch; ``--resume`` continues the run saved in the work
directory. ``flaxen info --model cnn`` prints the model's parameter table.

``main(argv)`` returns the exit status: 0 on success, 2 for a usage problem
(bad option, unusable work directory, bad data file, missing optional
dependency), each reported as one ``error:`` message on stderr without a
traceback. The runnable examples (``python -m flaxen.examples.digits``) reuse
``add_train_arguments`` and ``run_train`` with their own model.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from flaxen._src.cli import data as data_lib
from flaxen._src.cli import plot as plot_lib
from flaxen._src.cli.loop import OPTIMIZERS, TrainConfig, fit
from flaxen._src.cli.progress import make_reporter
from flaxen._src.cli.workdir import RunError

USAGE_ERROR = 2


def add_train_arguments(parser: argparse.ArgumentParser, *, default_workdir: str | None,
                        epochs: int | None = None) -> None:
  """Adds the options of a training run (everything but ``--model``) to ``parser``."""
  defaults = TrainConfig()
  add = parser.add_argument
  add('--data', metavar='PATH', default=None,
      help="MNIST idx directory or .npz file (default: scikit-learn's 8x8 digits)")
  add('--epochs', type=int, default=defaults.epochs if epochs is None else epochs,
      help='total epochs (default: %(default)s)')
  add('--batch-size', type=int, default=defaults.batch_size, help='default: %(default)s')
  add('--optimizer', choices=OPTIMIZERS, default=defaults.optimizer,
      help='default: %(default)s')
  add('--lr', type=float, default=defaults.learning_rate,
      help='learning rate (default: %(default)s)')
  add('--momentum', type=float, default=defaults.momentum,
      help='SGD momentum (default: %(default)s)')
  add('--seed', type=int, default=defaults.seed,
      help='init and shuffling seed (default: %(default)s)')
  shown = default_workdir or 'runs/<model>-<data>'
  add('--workdir', default=default_workdir,
      help=f'checkpoints, metrics and plot go here (default: {shown})')
  group = parser.add_mutually_exclusive_group()
  group.add_argument('--resume', action='store_true',
                     help='continue from the newest checkpoint in --workdir')
  group.add_argument('--overwrite', action='store_true',
                     help='start over, replacing the checkpoints in --workdir')
  add('--keep', type=int, default=defaults.keep, help='checkpoints kept (default: %(default)s)')
  add('--train-subset', type=int, default=None, metavar='N',
      help='train on the first N examples')
  add('--test-subset', type=int, default=None, metavar='N',
      help='test on the first N examples')
  add('--progress', choices=('auto', 'rich', 'plain'), default='auto',
      help='progress display (default: rich on a terminal, plain lines otherwise)')
  add('--no-plot', action='store_true', help='do not write loss.png')


def _config(args: argparse.Namespace) -> TrainConfig:
  return TrainConfig(
    epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
    learning_rate=args.lr, momentum=args.momentum, seed=args.seed, keep=args.keep,
    plot=not args.no_plot,
  )


def _error(prog: str, message: Any, err: TextIO | None) -> int:
  print(f'{prog}: error: {message}', file=err if err is not None else sys.stderr)
  return USAGE_ERROR


def run_train(args: argparse.Namespace, model: Any, model_name: str | None = None, *,
              prog: str = 'flaxen train', out: TextIO | None = None,
              err: TextIO | None = None) -> int:
  """Runs a training job described by parsed ``add_train_arguments`` options.

  Returns:
    The exit status (0, or 2 after printing a usage problem to ``err``).
  """
  out = out if out is not None else sys.stdout
  config = _config(args)
  try:
    config.validate()
  except ValueError as e:
    return _error(prog, e, err)
  try:
    dataset = data_lib.load_dataset(args.data).subset(args.train_subset, args.test_subset)
    reporter = make_reporter(args.progress, out)
    name = model_name or type(model).__name__
    n_train, n_test = dataset.train_labels.shape[0], dataset.test_labels.shape[0]
    shape = 'x'.join(map(str, dataset.image_shape))
    reporter.message(
      f'training {name} on {dataset.name}: {n_train} train / {n_test} test images of {shape}, '
      f'batch {config.batch_size}, {config.optimizer} lr {config.learning_rate}, '
      f'{config.epochs} epoch(s), workdir {args.workdir or "(none)"}'
    )
    result = fit(model, dataset, config, workdir=args.workdir, resume=args.resume,
                 overwrite=args.overwrite, reporter=reporter, model_name=name)
  except (RunError, data_lib.DataError, data_lib.MissingExtraError) as e:
    return _error(prog, e, err)
  except KeyboardInterrupt:
    print(f'{prog}: interrupted; run again with --resume to continue from the last '
          f'finished epoch', file=err if err is not None else sys.stderr)
    return 130
  if result.history:
    last = result.history[-1]
    reporter.message(
      f'done: step {last.step}, test accuracy {100 * last.test_accuracy:.2f}% '
      f'after {last.epoch} epoch(s)'
    )
  if result.checkpoint:
    reporter.message(f'checkpoint: {result.checkpoint}')
  if result.plot:
    reporter.message(f'loss curve: {result.plot}')
  elif args.workdir and config.plot and not plot_lib.available():
    reporter.message("loss curve skipped: matplotlib is not installed (pip install 'flaxen[plot]')")
  return 0


def _parameter_table(model: Any, sample: Any) -> str:
  """Fallback summary: one line per parameter with shape and count."""
  import jax
  import numpy as np

  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), sample)
  rows, total = [], 0
  for path, leaf in jax.tree_util.tree_leaves_with_path(shapes):
    name = '/'.join(str(getattr(k, 'key', getattr(k, 'idx', k))) for k in path)
    count = int(np.prod(leaf.shape))
    total += count
    shape = ','.join(map(str, leaf.shape))
    rows.append(f'  {name:<32} {f"{leaf.dtype}[{shape}]":<24} {count:>12,}')
  return '\n'.join([f'{type(model).__name__} parameters', *rows, f'Total: {total:,}'])


def run_info_command(args: argparse.Namespace, out: TextIO | None = None,
                     err: TextIO | None = None) -> int:
  """``flaxen info``: the model's ``tabulate`` table (or a parameter list)."""
  import jax
  import jax.numpy as jnp

  from flaxen._src.cli.models import make_model

  out = out if out is not None else sys.stdout
  try:
    shape = (data_lib.DIGITS_SHAPE if args.data is None
             else data_lib.load_dataset(args.data).image_shape)
  except (data_lib.DataError, data_lib.MissingExtraError) as e:
    return _error('flaxen info', e, err)
  model = make_model(args.model)
  sample = jnp.ones((1, *shape), jnp.float32)
  table = None
  tabulate = getattr(model, 'tabulate', None)
  if tabulate is not None:
    try:
      table = tabulate(jax.random.PRNGKey(0), sample, depth=args.depth,
                       console_kwargs={'force_terminal': out.isatty(), 'force_jupyter': False})
    except ImportError:  # the summary module (or rich) is not available
      table = None
  if table is None:
    table = _parameter_table(model, sample)
  print(table, file=out)
  return 0


def build_parser() -> argparse.ArgumentParser:
  from flaxen._src.cli.models import MODELS

  parser = argparse.ArgumentParser(
    prog='flaxen', description='Train and inspect small flaxen models.')
  sub = parser.add_subparsers(dest='command', metavar='COMMAND')
  sub.required = True
  train = sub.add_parser('train', help='train an image classifier',
                         description='Train an image classifier with per-epoch checkpoints.')
  train.add_argument('--model', choices=sorted(MODELS), default='cnn', help='default: %(default)s')
  add_train_arguments(train, default_workdir=None)
  info = sub.add_parser('info', help="print a model's parameter table")
  info.add_argument('--model', choices=sorted(MODELS), default='cnn', help='default: %(default)s')
  info.add_argument('--data', metavar='PATH', default=None,
                    help='take the input shape from this MNIST data (default: 8x8 digits)')
  info.add_argument('--depth', type=int, default=None, help='table depth (default: all)')
  return parser


def main(argv: Sequence[str] | None = None) -> int:
  """Entry point of the ``flaxen`` script; returns the exit status."""
  args = build_parser().parse_args(argv)
  if args.command == 'info':
    return run_info_command(args)
  from flaxen._src.cli.models import make_model

  if args.workdir is None:
    data_name = 'digits' if args.data is None else 'mnist'
    args.workdir = os.path.join('runs', f'{args.model}-{data_name}')
  return run_train(args, make_model(args.model), model_name=args.model)


if __name__ == '__main__':
  sys.exit(main())
