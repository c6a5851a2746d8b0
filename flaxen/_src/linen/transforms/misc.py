"""Linen ``fold_rngs`` (class name ``Fold_rngs<Class>``) and ``named_call``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.config import config
from flaxen._src.core import lift
from flaxen._src.linen.transforms.bridge import lift_transform
from flaxen._src.public import set_module


@set_module('flaxen.linen')
def fold_rngs(target: Any, variables: Any = True, rngs: Any = True, methods: Any = None) -> Any:
  """Forks ``target``'s RNG streams at every call (one ``make_rng`` per stream).

  Calling the transformed module twice gives different keys inside, like
  ``nn.jit`` does, without compiling anything.
  """
  return lift_transform(lift.fold_rngs, 'Fold_rngs', target, variables=variables, rngs=rngs,
                        methods=methods)


@set_module('flaxen.linen')
def named_call(class_fn: Callable[..., Any], force: bool = True) -> Callable[..., Any]:
  """Wraps a module method in ``jax.named_scope('<module name>[.<method>]')`` for profiles.

  Active when ``force`` is true or ``config.flax_profile`` is set; skipped in ``setup``.
  """
  fn_name = getattr(class_fn, '__name__', 'fn')

  @functools.wraps(class_fn)
  def wrapped(self, *args, **kwargs):
    if (not force and not config.flax_profile) or self._state.in_setup:
      return class_fn(self, *args, **kwargs)
    suffix = '' if fn_name == '__call__' else f'.{fn_name}'
    label = f'{self.name or type(self).__name__}{suffix}'
    with jax.named_scope(label):
      return class_fn(self, *args, **kwargs)

  return wrapped
