"""``broadcast``: the ``in_axes`` marker of scan-like transforms.

Passing ``broadcast`` as the axis of an input of ``nn.scan`` / ``lift.scan``
means "give every iteration the whole input" instead of slicing it.
"""

from __future__ import annotations


class _Broadcast:
  """Singleton type of ``broadcast``."""

  __slots__ = ()

  def __repr__(self) -> str:
    return 'broadcast'

  def __reduce__(self):
    return 'broadcast'


broadcast = _Broadcast()
