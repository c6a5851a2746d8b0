"""Checkpoint names: steps, natural sort, listing, and the hidden names of helper files.

A checkpoint for step ``s`` is the file (msgpack) or directory (Orbax)
``<ckpt_dir>/<prefix><s>``. Only names whose suffix after ``prefix`` is a
number (``3``, ``0.01``, ``-1.0``, ``1e5``) are checkpoints; ``save_checkpoint``
refuses steps that would not give such a name (``'abc'``, ``None``, ``True``,
``inf``, ``nan``), so every checkpoint written can be found again.

Everything else in the directory is ignored, in particular the helper files
this library writes next to checkpoints. They all start with a dot, so neither
this library nor the reference (which lists ``<prefix>*``) ever takes them for
checkpoints:

  * ``.<name>.flaxen-integrity``: the integrity record of checkpoint ``<name>``;
  * ``.<name>.flaxen-lock-<pid>-<token>``: held (``flock``) while a writer saves
    ``<name>``;
  * ``.<name>.flaxen-tmp-<pid>-<token>``: a msgpack file being written;
  * ``.<name>.flaxen-staging-<token>``: an Orbax checkpoint that will replace
    ``<name>``; ``.<name>.flaxen-trash-<token>``: one being deleted.

Also ignored: the reference's temporary file ``<prefix>tmp``, its multi-process
array directories ``<prefix><step>_gda`` and Orbax's temporary directories
``<name>.orbax-checkpoint-tmp``.

Ordering is *natural*: numbers inside names compare by value, so
``ckpt_0.001 < ckpt_0.01 < ckpt_0.1`` and ``ckpt_-1.0 < ckpt_1.0 < ckpt_1e5``.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
import re
from collections.abc import Iterable
from typing import Any, cast

from flaxen._src import io
from flaxen._src.public import set_module

_PUBLIC = 'flaxen.training.checkpoints'

_NUMBER = r'(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?'
# one capture group each (split() keeps the numbers); the unsigned form eats a sign
# without capturing it, so '-' and '+' then act as separators
SIGNED_FLOAT_RE = re.compile(rf'([-+]?{_NUMBER})')
UNSIGNED_FLOAT_RE = re.compile(rf'[-+]?({_NUMBER})')
MODULE_NUM_RE = re.compile(r'(.*)_\d+$')
SCHEME_RE = re.compile('^(?P<scheme>[a-z][a-z0-9.+-]+://)?(?P<path>.*)', re.I)
_STEP_RE = re.compile(rf'[-+]?{_NUMBER}')

# helper files (see the module docstring)
RECORD_SUFFIX = '.flaxen-integrity'
LOCK_MARK = '.flaxen-lock-'
TMP_MARK = '.flaxen-tmp-'
STAGING_MARK = '.flaxen-staging-'
TRASH_MARK = '.flaxen-trash-'
ORBAX_TMP_MARK = '.orbax-checkpoint-tmp'
_HELPER = re.compile(
  r'\.(?P<name>.+?)(?:\.flaxen-(?P<kind>lock|tmp|staging|trash)-(?:\d+-)?(?P<token>[0-9a-f]+)'
  r'|(?P<record>\.flaxen-integrity))(?P<rest>\.orbax-checkpoint-tmp.*)?'
)


@set_module(_PUBLIC)
def safe_normpath(path: str) -> str:
  """Normalizes ``path`` like ``os.path.normpath`` but keeps a URL scheme (``gs://``) intact.

  Example:
    >>> from flaxen.training.checkpoints import safe_normpath
    >>> safe_normpath('gs://bucket//a/./b/'), safe_normpath('./x//y/')
    ('gs://bucket/a/b', 'x/y')
  """
  parts = cast('re.Match[str]', SCHEME_RE.match(path))  # the pattern matches every string
  return (parts['scheme'] or '') + os.path.normpath(parts['path'])


@set_module(_PUBLIC)
def natural_sort(file_list: Iterable[str], signed: bool = True) -> list[str]:
  """Sorts strings so that the numbers inside them compare by value.

  Args:
    file_list: the names to sort.
    signed: read a ``+``/``-`` before a number as its sign (otherwise the sign
      separates, like any other character that is not part of a number).

  Returns:
    A new, sorted list.

  Example:
    >>> from flaxen.training.checkpoints import natural_sort
    >>> natural_sort(['ckpt_0.01', 'ckpt_0.1', 'ckpt_0.001'])
    ['ckpt_0.001', 'ckpt_0.01', 'ckpt_0.1']
    >>> natural_sort(['ckpt_1e5', 'ckpt_-1.0', 'ckpt_1.0'])
    ['ckpt_-1.0', 'ckpt_1.0', 'ckpt_1e5']
  """
  pattern = SIGNED_FLOAT_RE if signed else UNSIGNED_FLOAT_RE

  def key(name: str) -> list:
    # split() with one group alternates text, number, text, ...: text parts sit at
    # even positions and numbers at odd ones, so equal positions compare equal types.
    return [float(part) if odd else part for odd, part in _alternating(pattern.split(name))]

  return sorted(file_list, key=key)


def _alternating(parts: list) -> Iterable[tuple[int, str]]:
  return ((i & 1, part) for i, part in enumerate(parts))


def step_text(step: Any) -> str:
  """How ``step`` appears in a checkpoint name (``f'{step}'``, as in the reference).

  Raises:
    ValueError: ``step`` is not a finite real number (or a string, 0-d array or
      numpy scalar holding one); such a checkpoint could never be found again.
  """
  value = step
  if isinstance(step, str):
    ok = bool(_STEP_RE.fullmatch(step)) and math.isfinite(float(step))
  elif isinstance(step, bool) or step is None:
    ok = False
  else:
    if getattr(step, 'shape', None) == () and hasattr(step, 'dtype'):  # 0-d array
      value = step.item() if hasattr(step, 'item') else step
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value))
  text = f'{step}'
  if not ok or not _STEP_RE.fullmatch(text):
    raise ValueError(
      f'save_checkpoint: step must be a finite number (an int such as 1000, or a float metric '
      f'such as 0.25), got {step!r} of type {type(step).__name__}; checkpoint names are '
      f'<prefix><step> and only numeric steps can be found and ordered again'
    )
  return text


def as_index(value: Any, what: str) -> int:
  """``value`` as a plain int (ints and numpy integers; not bools)."""
  try:
    count = operator.index(value)
  except TypeError:
    count = None
  if count is None or isinstance(value, bool):
    raise ValueError(f'save_checkpoint: {what} must be an integer, got {value!r}')
  return count


def checkpoint_path(ckpt_dir: str, step: Any, prefix: str) -> str:
  """``<ckpt_dir>/<prefix><step>``."""
  return os.path.join(ckpt_dir, f'{prefix}{step}')


def step_suffix(name: str, prefix: str) -> str | None:
  """The step part of a checkpoint name, or None if ``name`` is not one."""
  if not name.startswith(prefix):
    return None
  suffix = name[len(prefix):]
  return suffix if _STEP_RE.fullmatch(suffix) else None


def split_prefix(ckpt_dir: str, prefix: str) -> tuple[str, str]:
  """Moves any directory part of ``prefix`` into ``ckpt_dir``."""
  head, tail = os.path.split(os.path.join(ckpt_dir, prefix))
  return head, tail


def list_names(ckpt_dir: str) -> list[str]:
  """The entries of ``ckpt_dir`` (empty if it is missing or not a directory)."""
  try:
    return io.listdir(ckpt_dir)
  except (OSError, io.not_found_error()):
    return []


def all_checkpoints(ckpt_dir: str, prefix: str, names: list[str] | None = None) -> list[str]:
  """Paths of every checkpoint name in ``ckpt_dir`` (intact or not), naturally sorted."""
  if names is None:
    names = list_names(ckpt_dir)
  found = [os.path.join(ckpt_dir, n) for n in names if step_suffix(n, prefix) is not None]
  return natural_sort(found)


def helper_path(path: str, kind: str, token: str = '') -> str:
  """The hidden helper name of ``kind`` for checkpoint ``path`` (see the module docstring)."""
  head, tail = os.path.split(path)
  if kind == 'record':
    return os.path.join(head, f'.{tail}{RECORD_SUFFIX}')
  pid = f'{os.getpid()}-' if kind in ('lock', 'tmp') else ''
  return os.path.join(head, f'.{tail}.flaxen-{kind}-{pid}{token}')


def parse_helper(name: str) -> tuple[str, str, str] | None:
  """``(checkpoint name, kind, token)`` of a helper file name, or None.

  ``kind`` is ``'record'``, ``'lock'``, ``'tmp'``, ``'staging'`` or ``'trash'``;
  an Orbax temporary directory made for a staging name has kind ``'staging'``.
  """
  match = _HELPER.fullmatch(name)
  if match is None:
    return None
  if match['record']:
    return (match['name'], 'record', '') if not match['rest'] else None
  return match['name'], match['kind'], match['token']


def orbax_tmp_owner(name: str) -> str | None:
  """The checkpoint name an Orbax temporary directory ``<name>.orbax-checkpoint-tmp`` is for."""
  if name.startswith('.') or ORBAX_TMP_MARK not in name:
    return None
  return name.split(ORBAX_TMP_MARK, 1)[0]


@set_module(_PUBLIC)
def available_steps(ckpt_dir: str | os.PathLike, prefix: str = 'checkpoint_', step_type=int):
  """Steps of the checkpoints in ``ckpt_dir``, in ascending (natural) order.

  Args:
    ckpt_dir: the checkpoint directory.
    prefix: checkpoint file name prefix.
    step_type: converts the name suffix into a step (``int`` or ``float``).

  Returns:
    A list of steps; empty when the directory is missing or holds none.
  """
  base, pfx = split_prefix(os.fspath(ckpt_dir), prefix)
  return [step_type(os.path.basename(p)[len(pfx):]) for p in all_checkpoints(base, pfx)]
