"""Globally unique, counter-based ids (``flaxen.ids``).

Objects that must keep their identity through lifted transforms and module
adoption are tagged with a ``FlaxId`` drawn from the process-wide ``uuid``
manager. ``id()`` is no substitute: CPython reuses addresses of dead objects.

Invariants:
  * ids drawn from one ``UUIDManager`` are 1, 2, 3, ... and never repeat, also
    when drawn from several threads at once;
  * two ``FlaxId`` are equal exactly when they wrap the same number, and hash
    like that number;
  * copying (``copy.copy`` / ``copy.deepcopy``) an object that holds a
    ``FlaxId`` gives the copy a *fresh* id from the global ``uuid``: a copy is
    a different object.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from flaxen._src.public import set_module

_PUBLIC = 'flaxen.ids'


@set_module(_PUBLIC)
class FlaxId:
  """A hashable id; copies of it are new, distinct ids.

  Args:
    rawid: the number it wraps (normally given by a ``UUIDManager``).

  Example:
    >>> import copy
    >>> a = FlaxId(7)
    >>> a, a == FlaxId(7), hash(a) == hash(7)
    (FlaxId(7), True, True)
    >>> copy.copy(a) == a
    False
  """

  __slots__ = ('id',)

  def __init__(self, rawid: Any):
    self.id = rawid

  def __eq__(self, other: object) -> bool:
    if not isinstance(other, FlaxId):
      return False
    return self.id == other.id

  def __hash__(self) -> int:
    return hash(self.id)

  def __repr__(self) -> str:
    return f'FlaxId({self.id})'

  def __copy__(self) -> FlaxId:
    return uuid()

  def __deepcopy__(self, memo: dict) -> FlaxId:
    return uuid()


@set_module(_PUBLIC)
class UUIDManager:
  """Hands out ``FlaxId(1)``, ``FlaxId(2)``, ... (thread-safe).

  Example:
    >>> ids = UUIDManager()
    >>> ids(), ids()
    (FlaxId(1), FlaxId(2))
  """

  def __init__(self):
    self._lock = threading.Lock()
    self._numbers = itertools.count(1)

  def __call__(self) -> FlaxId:
    with self._lock:
      number = next(self._numbers)
    return FlaxId(number)


uuid = UUIDManager()
"""The process-wide id manager."""
