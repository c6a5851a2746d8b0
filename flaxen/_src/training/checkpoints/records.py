"""Integrity records: the size and SHA-256 of a msgpack checkpoint, kept beside its bytes.

The checkpoint file itself stays byte-identical to the reference's. Beside it,
``.<name>.flaxen-integrity`` (hidden, so never listed as a checkpoint by this
library or by the reference) holds a small JSON document::

    {"format": "flaxen-checkpoint-integrity", "version": 1, "file": "<name>",
     "accept": [{"size": 1234, "sha256": "..."}, ...]}

The file is intact when its size and digest equal one entry of ``accept``.
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

import hashlib
import json
import logging
import os
import threading
from typing import Any

from flaxen._src import io
from flaxen._src.training.checkpoints import naming

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


def notice_unverified(path: str) -> None:
  """Logs, once per process, that checkpoints without a record cannot be fully verified."""
  if not _notice.is_set():
    _notice.set()
    _log.warning(
      'Checkpoint %s has no integrity record (it was written by the reference library or an '
      'older flaxen): it is checked for completeness and decoded in full, but flipped bits in '
      'its array data cannot be detected. Checkpoints saved by this version carry a record. '
      '(This notice is shown once.)', path)
