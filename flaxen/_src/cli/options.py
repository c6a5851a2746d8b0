"""The settings of ``flaxen train``: one table for flags and config files, one validation.

Every setting is an ``Option`` (name, kind, default, help). Flags are parsed as
raw strings and config-file values as they come; both pass through the same
``convert``, so ``--seed -1`` and ``seed = -1`` in a file are refused with the
same one-line message. Precedence: defaults < ``--config FILE`` < flags.

Config files are TOML (``.toml``, read with ``tomllib``, or ``tomli`` on Python
3.10) or YAML (``.yaml``/``.yml``; needs the optional PyYAML: ``pip install
pyyaml``). Keys are the option names with ``_`` or ``-`` (``batch_size``,
``batch-size``); ``model_kwargs`` (a table) is passed to the model's class or
factory and exists only in files.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

OPTIMIZERS = ('adam', 'adamw', 'sgd')
SCHEDULES = ('constant', 'cosine', 'warmup-cosine')
PROGRESS = ('auto', 'rich', 'plain')
MAX_SEED = 2**32 - 1


class UsageError(ValueError):
  """A bad flag, config file or setting; printed as one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Option:
  """One setting: ``kind`` is int, float, str, bool, choice or table."""

  name: str
  kind: str
  default: Any
  help: str
  low: float | None = None  # smallest allowed number
  choices: tuple[str, ...] = ()
  optional: bool = False  # None allowed (the default of optional numbers)
  flag: bool = True  # False: config files only

  @property
  def dest(self) -> str:
    return self.name.replace('-', '_')


OPTIONS = (
  Option('model', 'str', 'cnn', 'cnn, mlp, or your own module as package.module:attr'),
  Option('data', 'str', None, "MNIST idx directory or .npz file (default: scikit-learn's "
         "8x8 digits)", optional=True),
  Option('epochs', 'int', 8, 'total epochs (a resumed run stops there too)', low=0),
  Option('batch-size', 'int', 32, 'training examples per step', low=1),
  Option('optimizer', 'choice', 'adam', 'optimizer', choices=OPTIMIZERS),
  Option('lr', 'float', 3e-3, 'peak learning rate', low=0.0),
  Option('momentum', 'float', 0.9, 'SGD momentum', low=0.0),
  Option('weight-decay', 'float', 1e-4, 'AdamW weight decay', low=0.0),
  Option('schedule', 'choice', 'constant', 'learning-rate schedule', choices=SCHEDULES),
  Option('warmup-epochs', 'int', 1, 'linear warm-up of warmup-cosine', low=0),
  Option('clip-grad-norm', 'float', None, 'clip gradients to this global norm', low=0.0,
         optional=True),
  Option('patience', 'int', None, 'stop early after this many epochs without a lower test '
         'loss (+1)', low=0, optional=True),
  Option('min-delta', 'float', 0.0, 'smallest test-loss decrease that counts (early '
         'stopping)', low=0.0),
  Option('seed', 'int', 0, 'initialization, dropout and shuffling seed', low=0),
  Option('workdir', 'str', None, 'checkpoints, metrics and plots go here (default: '
         'runs/<model>-<data>)', optional=True),
  Option('keep', 'int', 3, 'checkpoints kept', low=1),
  Option('train-subset', 'int', None, 'train on the first N examples', low=1, optional=True),
  Option('test-subset', 'int', None, 'test on the first N examples', low=1, optional=True),
  Option('log-every', 'int', None, 'also log the batch loss every N steps', low=1,
         optional=True),
  Option('progress', 'choice', 'auto', 'rich bar on a terminal, plain lines otherwise',
         choices=PROGRESS),
  Option('plot', 'bool', True, 'write loss.png (needs matplotlib)'),
  Option('tensorboard', 'bool', True, 'write TensorBoard event files (needs tensorboardX)'),
  Option('resume', 'bool', False, 'continue from the newest checkpoint in the workdir'),
  Option('overwrite', 'bool', False, 'start over, replacing the run in the workdir'),
  Option('model-kwargs', 'table', None, 'keyword arguments of the model', optional=True,
         flag=False),
)
BY_DEST = {o.dest: o for o in OPTIONS}
# strictly positive, not just >= low
_POSITIVE = {'lr', 'clip_grad_norm'}


class OneLineParser(argparse.ArgumentParser):
  """argparse, but a usage error is one line (no usage dump) and exit status 2."""

  def error(self, message: str) -> NoReturn:
    self.exit(2, f'{self.prog}: error: {message} (see {self.prog} --help)\n')


def _number(option: Option, value: Any, where: str) -> int | float:
  kind = 'an integer' if option.kind == 'int' else 'a number'
  if isinstance(value, bool):
    raise UsageError(f'{where}: expected {kind}, got {value!r}')
  try:
    number = int(value) if option.kind == 'int' and not isinstance(value, float) else float(value)
  except (TypeError, ValueError):
    raise UsageError(f'{where}: expected {kind}, got {value!r}') from None
  if option.kind == 'int' and isinstance(value, float):
    raise UsageError(f'{where}: expected {kind}, got {value!r}')
  if not math.isfinite(number):
    raise UsageError(f'{where}: must be a finite number, got {value}')
  if option.dest in _POSITIVE and not number > 0:
    raise UsageError(f'{where}: must be > 0, got {value}')
  if option.low is not None and number < option.low:
    raise UsageError(f'{where}: must be >= {option.low:g}, got {value}')
  if option.dest == 'seed' and number > MAX_SEED:
    raise UsageError(f'{where}: must be <= {MAX_SEED}, got {value}')
  return number


def convert(option: Option, value: Any, where: str) -> Any:
  """``value`` (a flag's string or a config file's value) checked and typed.

  Raises:
    UsageError: the value does not fit the option (one line naming ``where``).
  """
  if value is None and option.optional:
    return None
  if option.kind in ('int', 'float'):
    return _number(option, value, where)
  if option.kind == 'bool':
    if isinstance(value, bool):
      return value
    text = str(value).strip().lower()
    if text in ('true', 'yes', 'on', '1'):
      return True
    if text in ('false', 'no', 'off', '0'):
      return False
    raise UsageError(f'{where}: expected true or false, got {value!r}')
  if option.kind == 'table':
    if not isinstance(value, Mapping):
      raise UsageError(f'{where}: expected a table of keyword arguments, got {value!r}')
    return dict(value)
  if not isinstance(value, str):
    raise UsageError(f'{where}: expected a string, got {value!r}')
  if option.kind == 'choice' and value not in option.choices:
    raise UsageError(f'{where}: must be one of {", ".join(option.choices)}, got {value!r}')
  return value


def _parse_toml(path: str, text: bytes) -> Any:
  try:
    import tomllib
  except ImportError:  # Python 3.10
    try:
      import tomli as tomllib
    except ImportError:
      raise UsageError(f'{path}: reading TOML on Python 3.10 needs tomli: pip install tomli'
                       ) from None
  try:
    return tomllib.loads(text.decode('utf-8'))
  except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
    raise UsageError(f'{path}: not valid TOML ({e})') from None


def _parse_yaml(path: str, text: bytes) -> Any:
  try:
    import yaml
  except ImportError:
    raise UsageError(f'{path}: reading YAML needs PyYAML: pip install pyyaml '
                     f'(or write the config as .toml)') from None
  try:
    return yaml.safe_load(text)
  except yaml.YAMLError as e:
    raise UsageError(f'{path}: not valid YAML ({" ".join(str(e).split())})') from None


def read_config(path: str) -> dict[str, Any]:
  """The settings of a TOML or YAML file, checked and typed (see the module docstring).

  Raises:
    UsageError: unreadable file, bad syntax, unknown key or bad value.
  """
  ext = os.path.splitext(path)[1].lower()
  parsers = {'.toml': _parse_toml, '.yaml': _parse_yaml, '.yml': _parse_yaml}
  if ext not in parsers:
    raise UsageError(f'--config {path}: expected a .toml, .yaml or .yml file')
  try:
    with open(path, 'rb') as f:
      text = f.read()
  except OSError as e:
    raise UsageError(f'--config {path}: {e.strerror or e}') from None
  raw = parsers[ext](path, text)
  if raw is None:
    raw = {}
  if not isinstance(raw, Mapping):
    raise UsageError(f'{path}: expected a table of settings, got {type(raw).__name__}')
  settings = {}
  for key, value in raw.items():
    dest = str(key).replace('-', '_')
    if dest == 'learning_rate':
      dest = 'lr'
    if dest not in BY_DEST:
      known = ', '.join(sorted(BY_DEST))
      raise UsageError(f'{path}: unknown setting {key!r} (known: {known})')
    settings[dest] = convert(BY_DEST[dest], value, f'{path}: {key}')
  return settings


def add_train_flags(parser: argparse.ArgumentParser) -> None:
  """The ``flaxen train`` flags; values stay raw strings, absent flags stay absent."""
  parser.add_argument('--config', metavar='FILE', default=argparse.SUPPRESS,
                      help='TOML or YAML file of settings (flags win over it)')
  for o in OPTIONS:
    if not o.flag:
      continue
    flag = f'--{o.name}'
    shown = '' if o.default is None else f' (default: {o.default})'
    if o.kind == 'bool':
      parser.add_argument(flag, dest=o.dest, action='store_const', const=True,
                          default=argparse.SUPPRESS, help=o.help + shown)
      if o.default:
        parser.add_argument(f'--no-{o.name}', dest=o.dest, action='store_const', const=False,
                            default=argparse.SUPPRESS, help=f'do not {o.help[0].lower()}'
                            f'{o.help[1:]}')
    else:
      metavar = '{' + ','.join(o.choices) + '}' if o.choices else o.dest.upper()
      parser.add_argument(flag, dest=o.dest, metavar=metavar, default=argparse.SUPPRESS,
                          help=o.help + shown)


def settings(args: argparse.Namespace) -> dict[str, Any]:
  """Defaults, then ``--config``, then flags, every value checked.

  Raises:
    UsageError: see ``convert`` and ``read_config``; ``--resume`` with ``--overwrite``.
  """
  merged = {o.dest: o.default for o in OPTIONS}
  given = vars(args)
  if 'config' in given:
    merged.update(read_config(given['config']))
  for dest, value in given.items():
    if dest in BY_DEST:
      merged[dest] = convert(BY_DEST[dest], value, f'--{BY_DEST[dest].name}')
  if merged['resume'] and merged['overwrite']:
    raise UsageError('--resume and --overwrite exclude each other: continue the run or '
                     'replace it')
  return merged


def error_line(prog: str, message: Any) -> str:
  """``prog: error: message`` on one line (newlines of ``message`` become ``; ``)."""
  parts = [p.strip() for p in str(message).splitlines() if p.strip()]
  return f'{prog}: error: {"; ".join(parts)}'


def print_error(prog: str, message: Any, err: Any = None) -> None:
  print(error_line(prog, message), file=err if err is not None else sys.stderr)
