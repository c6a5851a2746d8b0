"""Linen ``fold_rngs`` (class name ``Fold_rngs<Class>``) and ``named_call``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

from flaxen._src.core import lift
from flaxen._src.linen.module import named_call as named_call_lib
from flaxen._src.linen.module.named_call import label, method_name
from flaxen._src.linen.transforms.bridge import lift_transform
from flaxen._src.public import set_module


@set_module('flaxen.linen')
def fold_rngs(target: Any, variables: Any = True, rngs: Any = True, methods: Any = None) -> Any:
  """Forks ``target``'s RNG streams at every call (one ``make_rng`` per stream).

  Calling the transformed module twice gives different keys inside, like
  ``nn.jit`` does, without compiling anything.
  """
  return lift_transform(lift.fold_rngs, target, variables=variables, rngs=rngs,
                        methods=methods)


@set_module('flaxen.linen')
def named_call(class_fn: Callable[..., Any], force: bool = True) -> Callable[..., Any]:
  """Labels a module method for profiles: its ops run under ``jax.named_call``.

  The label is the Module call path's (``'<module name>[.<method>]'``). Active
  when ``force`` is true or named calls are enabled (``nn.enable_named_call``,
  ``config.flax_profile``); never inside ``setup``.
  """
  fn_name = method_name(class_fn)

  @functools.wraps(class_fn)
  def wrapped(self, *args, **kwargs):
    if (not force and not named_call_lib.enabled()) or self._state.in_setup:
      return class_fn(self, *args, **kwargs)
    return jax.named_call(class_fn, name=label(self, fn_name))(self, *args, **kwargs)

  return wrapped
