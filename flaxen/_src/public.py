"""Helpers that give implementation objects their public identity.

Objects defined under ``flaxen._src`` are re-exported by the public façades
(``flaxen.linen``, ``flaxen.core``, ...). ``set_module`` rewrites an object's
``__module__`` so reprs, pickles and error links show the public path and never
``_src``. This file imports nothing from flaxen (it is the bottom layer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def set_module(module: str) -> Callable[[T], T]:
  """Decorator: report ``module`` as the ``__module__`` of a class or function.

  Example:
    >>> @set_module('flaxen.linen')
    ... class Thing: pass
    >>> Thing.__module__
    'flaxen.linen'
  """

  def decorate(obj: T) -> T:
    obj.__module__ = module
    return obj

  return decorate
