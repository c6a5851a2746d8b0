"""Initializing a lifted ``scan``: the scanned parameters are created before the loop.

Created inside the loop body, every parameter initializer becomes part of the
``lax.scan`` program, which XLA compiles on every eager ``init`` (a new body is
a new program): for a 12-layer Transformer most of ``init`` is compiling the
random-number code. A hand-written model creates the stacked parameters first,
``jax.vmap`` over the per-layer keys, and runs a loop that only computes. Here
the same is done, when it gives the very same values:

1. after ``scan_loop``'s constant pass, the body is traced once more with a
   ``Recorder`` in ``lazy_record.RECORDER``: each parameter the body would
   create is noted (scope path, name, initializer, arguments, key suffix) and
   replaced by zeros. The RNG counters are restored afterwards, so this pass
   leaves no trace;
2. each noted parameter is created for all iterations at once:
   ``jax.vmap`` of the initializer over the split keys of its stream, each
   folded with the key's suffix -- per iteration exactly the key and the call
   the loop would make, so the values are bit-identical;
3. the loop runs with the created parameters as scanned inputs. A parameter
   found there still counts its draw (``lazy_record.PRECREATED``), so every later key of
   the body (a dropout mask, a parameter created some other way) is unchanged.

It applies when ``params`` is scanned over axis 0, absent so far, and mutable,
and every parameter of the body is made by one of JAX's initializers from
static arguments with a key of a split stream (``lazy_record._deferrable``).
Anything else (a user initializer, a nested lifted transform, an argument
computed in the body) makes the recorder give up: the loop then creates the
parameters itself, as before.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
from jax._src.interpreters import partial_eval as pe

from flaxen._src.core import lazy_record
from flaxen._src.core.lift.scan_loop import tainted_outputs
from flaxen._src.core.param_shape import abstract_init, draws_no_key
from flaxen._src.core.rng import LazyRng


class Recorder:
  """Notes the parameters one trace of the body would create (see module docstring)."""

  def __init__(self, owner: object):
    self.owner = owner  # the scan whose body is traced (a nested scan's keys are not ours)
    self.keys: dict[int, tuple[int, int, str]] = {}  # id(key slice) -> (group, root, stream)
    self.calls: list[tuple] = []
    self.failed = False

  def register_keys(self, rng_groups: Any) -> None:
    """Remembers which per-iteration key is which: ``rng_groups[g][r][stream].rng``."""
    for g, group in enumerate(rng_groups):
      for r, streams in enumerate(group):
        for stream, box in streams.items():
          self.keys[id(box.rng)] = (g, r, stream)

  def param(self, key: LazyRng, init_fn: Any, init_args: tuple, init_kwargs: dict,
            scope: Any = None, name: str | None = None) -> Any:
    where = self.keys.get(id(key.rng))
    if (where is None or scope is None or not lazy_record.deferrable(init_fn)
        or lazy_record.has_tracer((init_args, init_kwargs))):
      raise self._fail()
    abstract = abstract_init(init_fn, init_args, init_kwargs, key.rng)
    self.calls.append((scope.path, name, where, key.suffix, init_fn, init_args, init_kwargs))
    return jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), abstract)

  def variable(self, init_fn: Any, init_args: tuple, init_kwargs: dict) -> Any:
    return init_fn(*init_args, **init_kwargs)

  def _fail(self) -> lazy_record.NotRecordable:
    self.failed = True
    return lazy_record.NotRecordable('a parameter of the scan body cannot be made before the loop')


_ACTIVE: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar(
  'flaxen_scan_recorder', default=None
)


def register_keys(owner: object, rng_groups: Any) -> None:
  """Called by the body of scan ``owner`` with its per-iteration keys (no-op unless that
  scan's record pass runs)."""
  recorder = _ACTIVE.get()
  if recorder is not None and recorder.owner is owner:
    recorder.register_keys(rng_groups)


def _counter_state(counters: dict, out: list) -> list:
  """Every dict reachable in ``counters`` with a copy of its items (to restore in place)."""
  out.append((counters, list(counters.items())))
  for value in counters.values():
    if type(value) is dict:
      _counter_state(value, out)
  return out


def _restore(state: list) -> None:
  for d, items in state:
    d.clear()
    d.update(items)


def planner(owner: object, roots: tuple, group: int) -> Any:
  """``prepare(trace_once, xs) -> (xs, context)`` for ``scan_loop`` (see module docstring).

  Args:
    owner: identifies the scan (what its body passes to ``register_keys``).
    roots: the lifted root scopes (their paths and RNG counters).
    group: the index, among the scanned variable groups, of the one holding ``params``.
  """

  def prepare(trace_once, xs):
    session = roots[0].get_flag(lazy_record.SESSION)
    if session is None:  # the init's output is returned: keep the reference's program
      return xs, contextlib.nullcontext()
    state: list = []
    for root in roots:
      _counter_state(root.rng_counters, state)
    recorder = Recorder(owner)
    tokens = (lazy_record.RECORDER.set(recorder), _ACTIVE.set(recorder))
    try:
      traced = trace_once()
      if _forward_reaches_variables(traced, xs):
        recorder.failed = True
    except (Exception, lazy_record.NotRecordable):  # noqa: BLE001 - the loop will create them
      recorder.failed = True
    finally:
      lazy_record.RECORDER.reset(tokens[0])
      _ACTIVE.reset(tokens[1])
      _restore(state)
    if recorder.failed or not recorder.calls:
      return xs, contextlib.nullcontext()
    scan_vars, rng_xs = xs[0], xs[1]
    made: dict = {}
    for path, name, (g, r, stream), suffix, init_fn, init_args, init_kwargs in recorder.calls:
      keys = rng_xs[g][r][stream].rng
      keyless = draws_no_key(init_fn)

      def one(k, suffix=suffix, init_fn=init_fn, init_args=init_args, init_kwargs=init_kwargs,
              keyless=keyless):
        key = k if keyless else LazyRng(k, suffix).as_jax_rng()
        return init_fn(key, *init_args, **init_kwargs)

      relative = path[len(roots[r].path):]
      made.setdefault(r, []).append((relative, name, jax.vmap(one)(keys)))
    return (_insert(scan_vars, group, made), *xs[1:]), _counting(recorder.calls, session)

  return prepare


def _insert(scan_vars: tuple, group: int, made: dict) -> tuple:
  """``scan_vars`` with the created parameters put in ``params`` of their root scope."""
  roots = list(scan_vars[group])
  for r, entries in made.items():
    cols = dict(roots[r])
    params: dict = {}
    for relative, name, value in entries:
      node = params
      for part in relative:
        node = node.setdefault(part, {})
      node[name] = value
    cols['params'] = params
    roots[r] = cols
  groups = list(scan_vars)
  groups[group] = tuple(roots)
  return tuple(groups)


@contextlib.contextmanager
def _counting(calls: list, session: lazy_record.InitSession) -> Iterator[None]:
  token = lazy_record.PRECREATED.set(frozenset((path, name) for path, name, *_ in calls))
  try:
    yield
  finally:
    lazy_record.PRECREATED.reset(token)
    session.used = True


def _forward_reaches_variables(traced: Any, xs: tuple) -> bool:
  """Whether a variable the body returns, other than ``params``, depends on the carry or
  the scanned data (its value would come from the forward pass: see ``InitSession``)."""
  closed, out_shape, n_broadcast, n_carry = traced
  n_vars, n_rngs = (len(jax.tree_util.tree_leaves(x)) for x in xs[:2])
  n_data = len(closed.jaxpr.invars) - n_broadcast - n_carry - n_vars - n_rngs
  # closed-over values (broadcast data among them) count as data too
  tainted_in = [True] * len(closed.consts) + [False] * n_broadcast + [True] * n_carry
  tainted_in += [False] * (n_vars + n_rngs) + [True] * n_data
  marks = tainted_outputs(pe.convert_constvars_jaxpr(closed.jaxpr), tainted_in)
  _, (_, scan_out) = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out_shape), marks)
  return any(any(jax.tree_util.tree_leaves({c: v for c, v in cols.items() if c != 'params'}))
             for group in scan_out for cols in group)
