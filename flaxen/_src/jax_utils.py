"""Multi-device and tracing helpers that sit on top of JAX (``flaxen.jax_utils``).

Concepts:
  * *replicated* pytree: every leaf has a new leading axis of size
    ``len(devices)``, one identical copy per device, laid out the way ``jax.pmap``
    consumes its inputs (``replicate`` / ``unreplicate``);
  * *sharded* batch: the leading axis is split over the devices
    (``prefetch_to_device``, ``pad_shard_unpad``);
  * ``pad_shard_unpad`` lets a pmapped function see every example of a batch whose
    size does not divide the device count: it pads on the host with zeros, reshapes
    to ``(devices, per_device, ...)``, calls the function, and cuts the padding off
    the (host) outputs again;
  * ``partial_eval_by_shape`` traces a function on shapes only and returns the
    outputs that do not depend on the input values as concrete values (others as
    ``jax.ShapeDtypeStruct``);
  * ``scan_in_dim`` is ``lax.scan`` over arbitrary (and several nested) axes.

Invariants: device order is ``jax.local_devices()`` (the order ``jax.pmap`` uses)
unless ``devices`` is given; none of these functions mutates its inputs.
"""

from __future__ import annotations

import collections
import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend import core as jax_core
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from flaxen._src.errors.base import add_hint
from flaxen._src.public import set_module

_PUBLIC = 'flaxen.jax_utils'
# the mesh-axis name of replicated / prefetched arrays unless the caller names one (the
# reference's default, so that shardings compare equal across the two libraries)
_AXIS = '_device_put_sharded'


def _pmap_devices(devices: Sequence[Any] | None) -> list[Any]:
  return list(devices) if devices else jax.local_devices()


def _leading_sharding(devices: Sequence[Any], axis_name: str) -> NamedSharding:
  """A sharding that splits axis 0 over ``devices`` in order (pmap layout)."""
  mesh = Mesh(np.asarray(devices, dtype=object), (axis_name,))
  return NamedSharding(mesh, PartitionSpec(axis_name))


@set_module(_PUBLIC)
def replicate(tree: Any, devices: Sequence[Any] | None = None, axis_name: str = _AXIS) -> Any:
  """Puts one copy of every leaf of ``tree`` on each device.

  Args:
    tree: a pytree of arrays (or values convertible to arrays).
    devices: target devices; defaults to ``jax.local_devices()``, the order
      expected by ``jax.pmap``.
    axis_name: name of the one-axis device mesh the result is sharded over.

  Returns:
    A pytree of the same structure whose leaves have shape
    ``(len(devices),) + leaf.shape``, with copy ``i`` living on ``devices[i]``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import jax_utils
    >>> r = jax_utils.replicate({'w': jnp.ones(3)})
    >>> r['w'].shape == (jax.local_device_count(), 3)
    True
  """
  devs = _pmap_devices(devices)
  sharding = _leading_sharding(devs, axis_name)

  def put(x):
    x = jnp.asarray(x)[None]
    shards = [jax.device_put(x, d) for d in devs]
    return jax.make_array_from_single_device_arrays((len(devs),) + x.shape[1:], sharding, shards)

  return jax.tree_util.tree_map(put, tree)


def _first_replica(x: Any) -> Any:
  """One leaf of ``unreplicate``; see there for the cases."""
  if getattr(x, 'ndim', None) == 0:
    return x
  sharding = getattr(x, 'sharding', None)
  on_one_device = sharding is None or isinstance(sharding, SingleDeviceSharding)
  if on_one_device or jax.local_device_count() == 1:
    return x[0]
  local = x.addressable_shards[0].data
  assert sharding is not None  # a sharded array: checked by on_one_device above
  return local if sharding.is_fully_replicated else local.squeeze(0)


@set_module(_PUBLIC)
def unreplicate(tree: Any) -> Any:
  """Returns the first replica of a replicated pytree, as single-device arrays.

  Per leaf, as the reference does:

  * a 0-d array is returned as it is;
  * a host value or a single-device array ``x`` gives ``x[0]``;
  * an array sharded over the devices gives the data of its first local shard
    with the device axis removed (no device computation, and it works for
    arrays that span several processes); such an array must hold exactly one
    row per device (``jax.pmap`` outputs, ``replicate`` results);
  * a fully replicated array gives its first local copy, unchanged in shape.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import jax_utils
    >>> one = jax_utils.unreplicate(jax_utils.replicate({'w': jnp.ones(3)}))
    >>> one['w'].shape, len(one['w'].devices())
    ((3,), 1)
  """
  return jax.tree_util.tree_map(_first_replica, tree)


@set_module(_PUBLIC)
def pmean(xs: Any, axis_name: Any) -> Any:
  """Averages every leaf of ``xs`` over the mapped axis ``axis_name`` (inside pmap).

  Deprecated, as in the reference: it warns and calls ``jax.lax.pmean``, which
  takes pytrees itself.
  """
  warnings.warn('use jax.lax.pmean instead', DeprecationWarning, stacklevel=2)
  return lax.pmean(xs, axis_name)


def _as_batch(x: Any) -> Any:
  """A leaf of a prefetched item as an array whose axis 0 is split over the devices.

  Arrays are taken as they are; other leaves are stacked from their rows, so a
  scalar raises the reference's ``TypeError`` (it has no rows).
  """
  if isinstance(x, (np.ndarray, jax.Array)) and x.ndim:
    return x
  return np.stack(list(x))


def _put_batch(x: Any, sharding: NamedSharding) -> jax.Array:
  try:
    return jax.device_put(_as_batch(x), sharding)
  except ValueError as e:  # jax's IndivisibleError: axis 0 does not split evenly
    n = len(sharding.device_set)
    raise add_hint(
      e,
      f'prefetch_to_device splits axis 0 of every leaf over {n} devices; shard the '
      'batch first, e.g. with flaxen.training.common_utils.shard.',
    ) from None


@set_module(_PUBLIC)
def prefetch_to_device(
  iterator: Iterable[Any],
  size: int,
  devices: Sequence[Any] | None = None,
  axis_name: str = _AXIS,
) -> Iterator[Any]:
  """Shards batches onto the devices ``size`` items ahead of the consumer.

  Args:
    iterator: yields pytrees of arrays whose leading axis is split over the
      devices (usually one slice per device, as ``common_utils.shard`` makes).
    size: how many batches to keep in flight on the devices; 2 is a good choice
      on GPUs (one step computes while the next batch is copied).
    devices: target devices, default ``jax.local_devices()`` (pmap order).
    axis_name: name of the one-axis device mesh the arrays are sharded over.

  Yields:
    The items of ``iterator`` with axis 0 of every leaf split over the devices.

  Raises:
    ValueError: a leaf's leading axis is not a multiple of the number of
      devices (JAX's ``IndivisibleError``).
    TypeError: a leaf is a scalar.
  """
  devs = _pmap_devices(devices)
  sharding = _leading_sharding(devs, axis_name)
  source = iter(iterator)
  buffer: collections.deque = collections.deque()

  def fill(n: int) -> None:
    for item in itertools.islice(source, n):
      buffer.append(jax.tree_util.tree_map(lambda x: _put_batch(x, sharding), item))

  fill(size)
  while buffer:
    yield buffer.popleft()
    fill(1)


def _parse_spec(spec: Any) -> jax.ShapeDtypeStruct:
  if len(spec) == 2 and isinstance(spec[0], Iterable):
    return jax.ShapeDtypeStruct(tuple(spec[0]), spec[1])
  return jax.ShapeDtypeStruct(tuple(spec), jnp.float32)


_UNKNOWN = object()


def _is_literal(v: Any) -> bool:
  return isinstance(v, jax_core.Literal)


def _eval_known(closed: Any, inputs: list[Any]) -> list[Any]:
  """Evaluates the equations of ``closed`` whose inputs are all known.

  ``inputs`` holds concrete values or ``_UNKNOWN``. A ``jit`` call with unknown
  inputs is opened so that its input-independent part is evaluated too; with all
  inputs known it runs as one compiled call, exactly as eager code would.
  """
  jaxpr = closed.jaxpr
  env: dict[Any, Any] = {}

  def read(v):
    if _is_literal(v):
      return np.asarray(v.val, dtype=v.aval.dtype)
    return env.get(v, _UNKNOWN)

  for var, val in zip(jaxpr.constvars, closed.consts):
    env[var] = val
  for var, val in zip(jaxpr.invars, inputs):
    env[var] = val
  for eqn in jaxpr.eqns:
    vals = [read(v) for v in eqn.invars]
    unknown = any(v is _UNKNOWN for v in vals)
    if unknown and eqn.primitive.name in ('jit', 'pjit') and 'jaxpr' in eqn.params:
      # split the call: evaluate the part of its body that needs no unknown input
      outs = _eval_known(eqn.params['jaxpr'], vals)
    elif unknown:
      outs = [_UNKNOWN] * len(eqn.outvars)
    else:
      outs = eqn.primitive.bind(*vals, **eqn.params)
      if not eqn.primitive.multiple_results:
        outs = [outs]
    for var, val in zip(eqn.outvars, outs):
      env[var] = val
  return [read(v) for v in jaxpr.outvars]


@set_module(_PUBLIC)
def partial_eval_by_shape(fn: Callable[..., Any], input_spec: Iterable[Any], *args, **kwargs):
  """Runs ``fn`` on input shapes only, returning what can be known without values.

  Like ``jax.eval_shape``, but outputs that do not depend on the values of the
  inputs (for instance parameters created by an initializer) come back as
  concrete arrays; the others come back as ``jax.ShapeDtypeStruct``.

  Args:
    fn: called as ``fn(*inputs, *args, **kwargs)``.
    input_spec: one entry per input: a shape, or a ``(shape, dtype)`` pair
      (dtype float32 when not given).
    *args: further positional arguments, passed as they are.
    **kwargs: keyword arguments, passed as they are.

  Returns:
    The output pytree of ``fn`` with concrete leaves where possible.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen import jax_utils
    >>> out = jax_utils.partial_eval_by_shape(lambda x: (x * 2, jnp.ones(2)), [(3,)])
    >>> out[0].shape, out[1].tolist()
    ((3,), [1.0, 1.0])
  """
  structs = [_parse_spec(spec) for spec in input_spec]
  out_tree_box = []

  def flat_fn(*inputs):
    out = fn(*inputs, *args, **kwargs)
    leaves, treedef = jax.tree_util.tree_flatten(out)
    out_tree_box.append(treedef)
    return leaves

  closed = jax.make_jaxpr(flat_fn)(*structs)
  known = _eval_known(closed, [_UNKNOWN] * len(closed.jaxpr.invars))
  leaves = [
    jax.ShapeDtypeStruct(var.aval.shape, var.aval.dtype) if val is _UNKNOWN else val
    for var, val in zip(closed.jaxpr.outvars, known)
  ]
  return jax.tree_util.tree_unflatten(out_tree_box[-1], leaves)


def _drop_front(x: jax.Array, n: int) -> jax.Array:
  """Removes ``n`` leading size-1 axes."""
  return x.reshape(x.shape[n:])


def _scan_nested(body, init, xs, unrolls: tuple[int, ...]):
  """Nested ``lax.scan``: the outer loop over axis 0, the next over axis 1, ..."""
  if len(unrolls) == 1:
    return lax.scan(body, init, xs, unroll=unrolls[0])

  def outer(c, x):
    return _scan_nested(body, c, x, unrolls[1:])

  return lax.scan(outer, init, xs, unroll=unrolls[0])


@set_module(_PUBLIC)
def scan_in_dim(
  body_fn: Callable[[Any, Any], tuple[Any, Any]],
  init: Any,
  xs: Any,
  axis: int | Sequence[int] = (0,),
  unroll: int | Sequence[int] = (1,),
  keepdims: bool = False,
):
  """``lax.scan`` along arbitrary axes of ``xs`` (several axes give nested loops).

  Args:
    body_fn: ``(carry, x) -> (carry, y)``; ``x`` is a slice of ``xs`` without the
      scanned axes (or with them kept at size 1 when ``keepdims``).
    init: the initial carry.
    xs: a pytree of arrays to scan over.
    axis: the axis, or axes (outermost loop first), to scan over.
    unroll: unroll factor per axis. A shorter tuple is padded with ones on the
      left, so the innermost loops are unrolled first; factors beyond the
      number of axes are not used.
    keepdims: keep the scanned axes (size 1) in the slices given to ``body_fn``;
      ``body_fn`` then returns ``y`` with size-1 axes at the same positions.

  Returns:
    ``(final carry, ys)`` where the per-step outputs are stacked back at the
    positions given by ``axis``.
  """
  axes = tuple(axis) if isinstance(axis, Iterable) else (axis,)
  unrolls = tuple(unroll) if isinstance(unroll, Iterable) else (unroll,)
  n = len(axes)
  unrolls = ((1,) * (n - len(unrolls)) + unrolls)[:n]

  def to_front(x):
    rest = [d for d in range(x.ndim) if d not in axes]
    return jnp.transpose(x, axes + tuple(rest))

  def from_front(x):
    perm = list(axes) + [d for d in range(x.ndim) if d not in axes]
    return jnp.transpose(x, np.argsort(perm))  # type: ignore[arg-type]  # an int array is fine

  def body(c, x):
    if keepdims:
      x = jax.tree_util.tree_map(lambda a: from_front(a.reshape((1,) * n + a.shape)), x)
    c, y = body_fn(c, x)
    if keepdims:
      y = jax.tree_util.tree_map(lambda a: _drop_front(to_front(a), n), y)
    return c, y

  c, ys = _scan_nested(body, init, jax.tree_util.tree_map(to_front, xs), unrolls)
  return c, jax.tree_util.tree_map(from_front, ys)


class _BatchSizeMismatchError(AssertionError, ValueError):
  """The batched arguments of ``pad_shard_unpad`` disagree on the batch size.

  An ``AssertionError`` as in the reference (which asserts), and a ``ValueError``.
  """


def _batch_sizes(tree: Any, where: str, sizes: dict[int, str]) -> None:
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    name = f'{where}{jax.tree_util.keystr(path)}'
    try:
      # the reference reads ``leaf.shape[0]``: a scalar raises its AttributeError or
      # IndexError, which flaxen keeps and explains
      b = leaf.shape[0]
    except (AttributeError, IndexError) as e:
      raise add_hint(
        e,
        f'pad_shard_unpad: {name} is a scalar; it has no batch axis to pad and shard. '
        'Mark its argument static (static_argnums / static_argnames).',
      ) from None
    sizes.setdefault(int(b), name)


@set_module(_PUBLIC)
def pad_shard_unpad(
  wrapped: Callable[..., Any],
  static_argnums: Sequence[int] = (0,),
  static_argnames: Sequence[str] = (),
  static_return: bool = False,
) -> Callable[..., Any]:
  """Wraps a pmapped function so it accepts any batch size.

  The non-static arguments (every array leaf shares the leading batch size
  ``b``) are padded with zeros on the host to ``devices * per_device`` rows,
  reshaped to ``(devices, per_device, ...)`` and passed to ``wrapped``. Unless
  ``static_return``, every output leaf is fetched to the host, reshaped to
  ``(devices * per_device, ...)`` and cut back to its first ``b`` rows.

  Args:
    wrapped: a pmapped function, usually ``f(params, *batch_args)``.
    static_argnums: positions forwarded untouched (default ``(0,)``: params).
    static_argnames: keyword arguments forwarded untouched.
    static_return: return the outputs as they are (e.g. replicated metrics
      accumulated with ``psum``) instead of un-sharding and un-padding them.

  Returns:
    The wrapped function. It takes the keyword-only ``min_device_batch``: pad
    to at least that many rows per device, so the last, smaller batch of a
    dataset reuses the compiled program of the full batches.

  Raises:
    AssertionError: the batched arguments disagree on the batch size, or there is
      none (the error is also a ``ValueError``).
    IndexError: a batched leaf is a 0-d array (``AttributeError`` for a Python
      scalar), as in the reference.

  Example:
    >>> import jax, numpy as np
    >>> from flaxen import jax_utils
    >>> double = jax_utils.pad_shard_unpad(jax.pmap(lambda x: x * 2), static_argnums=())
    >>> double(np.arange(3.0)).tolist()  # 3 rows on any number of devices
    [0.0, 2.0, 4.0]
  """
  static_nums = set(static_argnums)
  static_names = set(static_argnames)

  def wrapper(*args, min_device_batch: int | None = None, **kwargs):
    d = jax.local_device_count()
    sizes: dict[int, str] = {}
    for i, a in enumerate(args):
      if i not in static_nums:
        _batch_sizes(a, f'argument {i}', sizes)
    for k, v in kwargs.items():
      if k not in static_names:
        _batch_sizes(v, f'argument {k!r}', sizes)
    if len(sizes) != 1:
      found = ', '.join(f'{name}: {b}' for b, name in sizes.items()) or 'no batched argument'
      raise _BatchSizeMismatchError(
        f'Inconsistent batch-sizes: {set(sizes)} (pad_shard_unpad: {found}). Every '
        'non-static argument needs the same leading (batch) axis.'
      )
    (b,) = sizes
    per_device = -(-b // d)
    if min_device_batch is not None:
      per_device = max(per_device, int(min_device_batch))

    def pad(x):
      x = np.asarray(x)
      extra = d * per_device - x.shape[0]
      if extra:
        x = np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)])
      return x.reshape((d, per_device) + x.shape[1:])

    def pad_tree(tree, batched):
      return jax.tree_util.tree_map(pad, tree) if batched else tree

    args = [pad_tree(a, i not in static_nums) for i, a in enumerate(args)]  # type: ignore[assignment]
    kwargs = {k: pad_tree(v, k not in static_names) for k, v in kwargs.items()}
    out = wrapped(*args, **kwargs)
    if static_return:
      return out

    def unpad(x):
      x = np.asarray(jax.device_get(x))
      return x.reshape((x.shape[0] * x.shape[1],) + x.shape[2:])[:b]

    return jax.tree_util.tree_map(unpad, out)

  return wrapper
