"""Integrity records: the size and SHA-256 of a checkpoint, kept beside it.

The checkpoint itself stays byte-identical to the reference's (a msgpack file,
or an Orbax directory). Beside it, ``.<name>.flaxen-integrity`` (hidden, so
never listed as a checkpoint by this library or by the reference) holds a small
JSON document::

    {"format": "flaxen-checkpoint-integrity", "version": 1, "file": "<name>",
     "accept": [{"size": 1234, "sha256": "..."}, ...]}

For a file, ``size`` and ``sha256`` are those of its bytes. For an Orbax
directory they describe its *manifest*: every file under it, in sorted order,
as ``<relative path> TAB <size> TAB <sha256>`` lines; ``size`` is the total
and ``files`` the count. A checkpoint is intact when its digest equals one
entry of ``accept``.
There is normally exactly one entry; while a save replaces an existing
checkpoint of the same name, the record lists the new *and* the old digest, so
a crash before or after the rename leaves a file that verifies, never a false
alarm (the save writes the record first, then renames the data into place,
then rewrites the record with the new digest alone).

A checkpoint without a record (written by the reference, or by an older
flaxen) is *unverified*: it is still restored after the structural checks of
``framing`` and a full decode, and a one-time notice says that flipped bits in
its array data cannot be detected. A record that cannot be parsed counts as
damage (the storage under it cannot be trusted either).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from flaxen._src import io
from flaxen._src.training.checkpoints import atomic, naming

FORMAT = 'flaxen-checkpoint-integrity'
VERSION = 1
_log = logging.getLogger('flaxen.training.checkpoints')
_notice = threading.Event()
_MAX_RECORD = 1 << 16


class Damaged(ValueError):
  """The bytes of a checkpoint do not match its record (or the record is unreadable)."""


def digest(data: Any) -> dict:
  """``{'size': n, 'sha256': hex}`` of a bytes-like object."""
  view = memoryview(data)
  return {'size': view.nbytes, 'sha256': hashlib.sha256(view).hexdigest()}


def file_digest(path: str) -> dict:
  """The digest of a file's current content, read in chunks."""
  sha, size = hashlib.sha256(), 0
  with io.GFile(path, 'rb') as f:
    while chunk := f.read(1 << 22):
      sha.update(chunk)
      size += len(chunk)
  return {'size': size, 'sha256': sha.hexdigest()}


def tree_files(path: str) -> list[str]:
  """Relative paths of every file under directory ``path``, sorted (links are not followed)."""
  found = []
  for root, dirs, files in os.walk(path):
    dirs.sort()
    rel = os.path.relpath(root, path)
    found += [os.path.normpath(os.path.join(rel, f)) for f in files]
  return sorted(found)


def tree_digest(path: str) -> dict:
  """The digest of directory ``path``'s manifest (see the module docstring)."""
  lines, total = [], 0
  names = tree_files(path)
  for rel in names:
    d = file_digest(os.path.join(path, rel))
    total += d['size']
    lines.append(f'{rel}\t{d["size"]}\t{d["sha256"]}')
  manifest = '\n'.join(lines).encode()
  return {'size': total, 'sha256': hashlib.sha256(manifest).hexdigest(), 'files': len(names)}


def current_digest(path: str) -> dict:
  """The digest of checkpoint ``path`` (a file or an Orbax directory) as it is now."""
  return tree_digest(path) if os.path.isdir(path) else file_digest(path)


def encode(path: str, accept: list[dict]) -> bytes:
  """The record bytes for checkpoint ``path`` accepting the given digests."""
  doc = {'format': FORMAT, 'version': VERSION, 'file': os.path.basename(path), 'accept': accept}
  return (json.dumps(doc, sort_keys=True) + '\n').encode()


def load(path: str) -> list[dict] | None:
  """The accepted digests of checkpoint ``path``; None when it has no record.

  Raises:
    Damaged: the record exists but is not a valid record for ``path``.
  """
  record = naming.helper_path(path, 'record')
  try:
    with io.GFile(record, 'rb') as f:
      raw = f.read(_MAX_RECORD + 1)
  except (FileNotFoundError, io.not_found_error()):
    return None
  except OSError as e:
    raise Damaged(f'its integrity record {record} cannot be read: {e}') from e
  try:
    doc = json.loads(raw)
    ok = (
      len(raw) <= _MAX_RECORD and doc['format'] == FORMAT and doc['version'] == VERSION
      and doc['file'] == os.path.basename(path) and isinstance(doc['accept'], list)
      and doc['accept'] and all(_is_digest(d) for d in doc['accept'])
    )
  except (ValueError, TypeError, KeyError):
    ok = False
  if not ok:
    raise Damaged(f'its integrity record {record} is damaged')
  return doc['accept']


def previous_digest(path: str) -> dict | None:
  """The digest a checkpoint being replaced should still verify with (None if it is absent)."""
  if not io.exists(path):
    return None
  try:
    accept = load(path)
  except Damaged:
    accept = None
  return accept[0] if accept else current_digest(path)


def _is_digest(d: Any) -> bool:
  return (
    isinstance(d, dict) and type(d.get('size')) is int and isinstance(d.get('sha256'), str)
    and len(d['sha256']) == 64
  )


def verify(path: str, data: Any) -> bool:
  """Checks ``data`` (the bytes read from ``path``) against the record of ``path``.

  Returns:
    True when verified, False when there is no record (see ``notice_unverified``).

  Raises:
    Damaged: the bytes differ from every accepted digest, or the record is damaged.
  """
  accept = load(path)
  if accept is None:
    return False
  size = memoryview(data).nbytes
  if not any(d['size'] == size for d in accept):
    raise Damaged(f'it holds {size} bytes, its integrity record says {accept[0]["size"]}')
  got = digest(data)['sha256']
  if not any(d['sha256'] == got and d['size'] == size for d in accept):
    raise Damaged('its SHA-256 differs from its integrity record: the bytes were changed '
                  'after the save (a bad copy, a storage fault, an edit)')
  return True


def verify_tree(path: str) -> bool:
  """``verify`` for an Orbax directory: hashes every file under it (see the module doc)."""
  accept = load(path)
  if accept is None:
    return False
  got = tree_digest(path)
  if not any(d['sha256'] == got['sha256'] for d in accept):
    saved = accept[0]
    what = (f'{got["files"]} files of {got["size"]} bytes, its integrity record lists '
            f'{saved.get("files", "?")} files of {saved["size"]} bytes')
    raise Damaged(f'its files differ from its integrity record ({what}): they were changed, '
                  'added or removed after the save')
  return True


def notice_unverified(path: str) -> None:
  """Logs, once per process, that checkpoints without a record cannot be fully verified."""
  if not _notice.is_set():
    _notice.set()
    _log.warning(
      'Checkpoint %s has no integrity record (it was written by the reference library, by an '
      'older flaxen, or its save was interrupted right after the commit): it is checked for '
      'completeness, but flipped bits in its array data cannot be detected. Checkpoints saved '
      'by this version carry a record. (This notice is shown once.)', path)


def publish(path: str, new: dict, commit: Callable[[], None], token: str) -> None:
  """Puts a new checkpoint under ``path`` so that it verifies at every instant.

  Writes the record accepting ``new`` (and the digest of what ``path`` holds
  now, if anything), runs ``commit`` (the atomic rename that makes ``path`` the
  new checkpoint), then rewrites the record with ``new`` alone. If ``commit``
  fails, the previous record is put back.

  Args:
    path: the checkpoint name.
    new: the digest of the new checkpoint.
    commit: makes the new checkpoint appear under ``path``.
    token: the ``WriterLock`` token of this write.
  """
  record = naming.helper_path(path, 'record')
  previous_record = None
  if io.exists(record):
    with io.GFile(record, 'rb') as f:
      previous_record = f.read()
  old = previous_digest(path)
  accept = [new] if old is None or old == new else [new, old]
  atomic.write_file(record, encode(path, accept), True, token)
  try:
    commit()
  except BaseException:
    with contextlib.suppress(OSError):
      if previous_record is None:
        io.remove(record)
      else:
        atomic.write_file(record, previous_record, True, token)
    raise
  if len(accept) > 1:
    atomic.write_file(record, encode(path, [new]), True, token)


def seal(path: str, token: str) -> None:
  """Writes the record of a checkpoint that is already committed under ``path``."""
  atomic.write_file(naming.helper_path(path, 'record'), encode(path, [current_digest(path)]),
                    True, token)
