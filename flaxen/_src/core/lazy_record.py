"""The record pass of ``lazy_init``: note every parameter, create them all afterwards.

``partial_eval.lazy_init`` first runs the model abstractly (``jax.make_jaxpr``,
with ``jax.ShapeDtypeStruct`` inputs as the only traced values) with a
``Recorder`` installed in ``RECORDER``, a context variable read by
``Scope.param``/``Scope.variable``:

* a parameter about to be created by one of JAX's initializers
  (``jax.nn.initializers``, also inside ``reshape_init``) is *not* initialized.
  Its draw is counted as usual and the recorder keeps ``(initializer,
  arguments, key)``, the key still underived (a ``LazyRng``). The model gets
  zeros of the initializer's abstract output (placeholders), enough to trace
  the rest of the forward pass. Calling such an initializer later gives the
  same result: it is a function of its key and arguments only (its closure
  holds the builder's settings, checked to hold no tracer);
* any other initializer (a user's function may read state that changes later,
  e.g. a loop variable it closes over) runs at once, on its concrete key, under
  ``jax.ensure_compile_time_eval`` -- so does a variable's initializer; their
  values are concrete.

When the trace is done, ``plan`` reads the variables it returned: each leaf is
a placeholder (of a noted parameter), a concrete array, or something else.
``create`` then calls every noted initializer on its derived key, eagerly and
outside any trace -- the very call ``init`` makes, so the values are bit for
bit those of ``init`` -- and ``build`` puts the values where the placeholders
were. The forward pass itself is traced once and never computed.

What this pass cannot express raises ``NotRecordable``: a key or an initializer
argument that is a tracer (a lifted transform, a parameter computed from
another value), a variable whose value is not concrete, an output leaf that is
neither a placeholder nor concrete. ``lazy_init`` then falls back to JAX's
partial evaluation, which handles everything (``partial_eval.py``).
``NotRecordable`` derives from ``BaseException`` so that a model's ``except
Exception`` cannot swallow it; the recorder also remembers the failure.
"""

from __future__ import annotations

import contextvars
import types
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from flaxen._src.core.param_shape import abstract_init, draws_no_key
from flaxen._src.core.rng import LazyRng

RECORDER: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
  'flaxen_lazy_recorder', default=None
)


class NotRecordable(BaseException):  # noqa: N818 - a control-flow signal, not an error
  """The record pass met something it cannot express (see module docstring)."""


def _has_tracer(tree: Any) -> bool:
  return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


# The modules JAX's initializers report (builders' closures, and the public names).
_JAX_INITIALIZERS = frozenset(
  (jax.nn.initializers.lecun_normal().__module__, jax.nn.initializers.zeros.__module__)
)


def _deferrable(init_fn: Any) -> bool:
  """Whether ``init_fn`` may be called later with the same result (see module docstring)."""
  while getattr(type(init_fn), 'flaxen_init_wrapper', False):
    init_fn = init_fn.init_fn
  if not isinstance(init_fn, types.FunctionType) or init_fn.__module__ not in _JAX_INITIALIZERS:
    return False
  cells = init_fn.__closure__ or ()
  return not _has_tracer([c.cell_contents for c in cells])


def _call_now(key: LazyRng, init_fn: Any, init_args: tuple, init_kwargs: dict) -> Any:
  """The initializer's value, computed eagerly even inside the abstract trace."""
  with jax.ensure_compile_time_eval():
    rng = key.rng if draws_no_key(init_fn) else key.as_jax_rng()
    return init_fn(rng, *init_args, **init_kwargs)


class Recorder:
  """Collects the parameters of one record pass (see module docstring)."""

  def __init__(self):
    self.calls: list[tuple[Any, tuple, dict, LazyRng]] = []
    self.placeholders: dict[int, tuple[int, int]] = {}  # id(tracer) -> (call, leaf)
    self._alive: list[Any] = []  # keeps placeholders alive, so their ids stay theirs
    self.failed = False

  def fail(self, why: str) -> NotRecordable:
    self.failed = True
    return NotRecordable(why)

  def param(self, key: LazyRng, init_fn: Any, init_args: tuple, init_kwargs: dict) -> Any:
    """Notes a parameter and returns its placeholder (zeros of the initializer's output)."""
    if _has_tracer(key.rng) or _has_tracer((init_args, init_kwargs)):
      raise self.fail('a key or an initializer argument is traced')
    if not _deferrable(init_fn):
      value = _call_now(key, init_fn, init_args, init_kwargs)
      if _has_tracer(value):
        raise self.fail('an initializer computed its value from a traced one')
      return value
    abstract = abstract_init(init_fn, init_args, init_kwargs, key.rng)
    index = len(self.calls)
    self.calls.append((init_fn, init_args, init_kwargs, key))
    leaves, tree = jax.tree_util.tree_flatten(abstract)
    zeros = [self._placeholder(a) for a in leaves]
    for i, z in enumerate(zeros):
      self.placeholders[id(z)] = (index, i)
    self._alive.extend(zeros)
    return jax.tree_util.tree_unflatten(tree, zeros)

  def _placeholder(self, aval: Any) -> Any:
    """A fresh tracer of ``aval`` (zeros): one broadcast of a scalar, the cheapest op to stage."""
    try:
      z = lax.broadcast(np.zeros((), aval.dtype), aval.shape)
    except TypeError:  # not a NumPy dtype (e.g. a key type)
      z = jnp.zeros(aval.shape, aval.dtype)
    if not isinstance(z, jax.core.Tracer):  # a scalar: nothing was staged
      z = jnp.zeros(aval.shape, aval.dtype)
    if not isinstance(z, jax.core.Tracer):
      raise self.fail('no placeholder could be made')
    return z

  def variable(self, init_fn: Any, init_args: tuple, init_kwargs: dict) -> Any:
    """Evaluates a variable's initializer now; it must not need a traced value."""
    with jax.ensure_compile_time_eval():
      value = init_fn(*init_args, **init_kwargs)
    if _has_tracer(value):
      raise self.fail('a variable is initialized from a traced value')
    return value

  def plan(self, out: Any) -> tuple[Any, list[Any]]:
    """``(tree, slots)`` of the variables ``out``: a slot is ``(call, leaf)`` or a concrete leaf."""
    leaves, tree = jax.tree_util.tree_flatten(out)
    slots: list[Any] = []
    for leaf in leaves:
      where = self.placeholders.get(id(leaf)) if isinstance(leaf, jax.core.Tracer) else None
      if where is not None:
        slots.append(where)
      elif _has_tracer(leaf):
        raise self.fail('a variable holds a value computed in the abstract pass')
      else:
        slots.append((None, leaf))
    self._alive.clear()
    return tree, slots

  def create(self) -> list[list[Any]]:
    """Runs every noted initializer eagerly; the leaves of each result."""
    made = []
    for init_fn, init_args, init_kwargs, key in self.calls:
      rng = key.rng if draws_no_key(init_fn) else key.as_jax_rng()
      value = init_fn(rng, *init_args, **init_kwargs)
      if _has_tracer(value):
        raise self.fail('an initializer returned a traced value')
      made.append(jax.tree_util.tree_leaves(value))
    return made


def build(tree: Any, slots: list[Any], made: list[list[Any]]) -> Any:
  """The variables, with each placeholder replaced by the value created for it."""
  leaves = [made[call][i] if call is not None else i for call, i in slots]
  return jax.tree_util.tree_unflatten(tree, leaves)
