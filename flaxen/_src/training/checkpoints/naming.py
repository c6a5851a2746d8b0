"""Checkpoint file names, natural sort, and directory listing.

A checkpoint for step ``s`` is the file (or, for Orbax, directory)
``<ckpt_dir>/<prefix><s>``. Only names whose suffix after ``prefix`` is a number
(``3``, ``0.01``, ``-1.0``, ``1e5``) are checkpoints. Everything else in the
directory is ignored, in particular:

  * this library's temporary files, ``.<prefix><step>.flaxen-tmp-<pid>-<token>``,
    which start with a dot and so never match ``<prefix>`` (unless ``prefix``
    itself starts with two dots, which the suffix check still rejects);
  * the reference's temporary file ``<prefix>tmp`` and its multi-process array
    directories ``<prefix><step>_gda``.

Ordering is *natural*: numbers inside names compare by value, so
``ckpt_0.001 < ckpt_0.01 < ckpt_0.1`` and ``ckpt_-1.0 < ckpt_1.0 < ckpt_1e5``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from flaxen._src.public import set_module

_PUBLIC = 'flaxen.training.checkpoints'

_NUMBER = r'(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?'
SIGNED_FLOAT_RE = re.compile(rf'([-+]?{_NUMBER})')
UNSIGNED_FLOAT_RE = re.compile(rf'({_NUMBER})')
_STEP_RE = re.compile(rf'[-+]?{_NUMBER}')

TMP_MARK = '.flaxen-tmp-'


@set_module(_PUBLIC)
def natural_sort(file_list: Iterable[str], signed: bool = True) -> list[str]:
  """Sorts strings so that the numbers inside them compare by value.

  Args:
    file_list: the names to sort.
    signed: read a ``+``/``-`` before a number as its sign.

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

  def key(name: str) -> tuple:
    # split() with one group alternates text, number, text, ...: text parts sit at
    # even positions and numbers at odd ones, so equal positions compare equal types.
    parts = pattern.split(name)
    return tuple(float(p) if i % 2 else p for i, p in enumerate(parts))

  return sorted(file_list, key=key)


def checkpoint_path(ckpt_dir: str, step: Any, prefix: str) -> str:
  """``<ckpt_dir>/<prefix><step>``."""
  return os.path.join(ckpt_dir, f'{prefix}{step}')


def step_suffix(name: str, prefix: str) -> str | None:
  """The step part of a checkpoint file name, or None if ``name`` is not one."""
  if not name.startswith(prefix):
    return None
  suffix = name[len(prefix):]
  return suffix if _STEP_RE.fullmatch(suffix) else None


def all_checkpoints(ckpt_dir: str, prefix: str) -> list[str]:
  """Paths of every checkpoint in ``ckpt_dir`` (complete or not), naturally sorted."""
  try:
    names = os.listdir(ckpt_dir)
  except (FileNotFoundError, NotADirectoryError):
    return []
  found = [os.path.join(ckpt_dir, n) for n in names if step_suffix(n, prefix) is not None]
  return natural_sort(found)


def tmp_path(path: str, token: str) -> str:
  """A temporary name next to ``path`` that can never be taken for a checkpoint."""
  head, tail = os.path.split(path)
  return os.path.join(head, f'.{tail}{TMP_MARK}{os.getpid()}-{token}')


def tmp_owner_pid(name: str) -> int | None:
  """The pid recorded in a temporary file name, or None if ``name`` is not one."""
  if not name.startswith('.') or TMP_MARK not in name:
    return None
  rest = name.rsplit(TMP_MARK, 1)[1]
  pid, _, _ = rest.partition('-')
  return int(pid) if pid.isdigit() else None


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
  ckpt_dir = os.fspath(ckpt_dir)
  return [step_type(os.path.basename(p)[len(prefix):]) for p in all_checkpoints(ckpt_dir, prefix)]
