"""Deterministic derivation of PRNG keys from a base key, a scope path and a call counter.

A ``LazyRng`` is a base key plus a *suffix*: the names of the scopes between
the root and the scope that holds it, then (for a drawn key) the per-scope call
counter. Nothing is computed until ``as_jax_rng``; then the whole suffix is
hashed once and folded into the base key, exactly like the reference:

* ``H = SHA-1(part_1 || part_2 || ...)``; strings are UTF-8, integers are their
  minimal big-endian bytes (``1 -> b'\\x01'``);
* with ``config.flax_fix_rng_separator`` each part is preceded by ``b'\\x00'``
  (so ``('ab', 'c')`` and ``('a', 'bc')`` differ);
* the key is ``jax.random.fold_in(base, uint32(first 4 bytes of H, big-endian))``;
  an empty suffix returns the base key unchanged.

Invariant: exactly one ``fold_in`` per drawn key, so a key is a pure function of
(base key, path, counter) and never of the order of unrelated draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

from flaxen._src.config import config
from flaxen._src.public import set_module

LazyRngPart = str | int


def _part_bytes(x: LazyRngPart) -> bytes:
  if isinstance(x, str):
    return x.encode('utf-8')
  if isinstance(x, int):
    return x.to_bytes((x.bit_length() + 7) // 8, byteorder='big')
  raise ValueError(f'Expected string or int, got: {x!r}')


def hash_suffix(suffix: Sequence[LazyRngPart]) -> int:
  """The uint32 folded into the base key for ``suffix`` (see module docstring)."""
  m = hashlib.sha1()
  sep = config.flax_fix_rng_separator
  for x in suffix:
    if sep:
      m.update(b'\x00')
    m.update(_part_bytes(x))
  return int.from_bytes(m.digest()[:4], byteorder='big')


# Eagerly, one jitted ``fold_in`` is ~10x cheaper than the op-by-op one (the
# threefry bits are identical) but costs one compilation, so it is used only
# after the first _EAGER_FOLDS keys of the process (small models never pay the
# compile). Under a trace the plain call is used, so traced programs contain
# exactly the ops a hand-written ``fold_in`` gives.
_fold_in_jit = jax.jit(jax.random.fold_in)
_EAGER_FOLDS = 256
_eager_count = [0]


def fold_in_static(rng: Any, suffix: Sequence[LazyRngPart]) -> Any:
  """Folds the hash of ``suffix`` into ``rng`` (one ``fold_in``; identity when empty)."""
  if not suffix:
    return rng
  data = np.uint32(hash_suffix(suffix))
  if isinstance(rng, jax.core.Tracer) or not isinstance(rng, jax.Array):
    return jax.random.fold_in(rng, data)
  if _eager_count[0] < _EAGER_FOLDS:
    _eager_count[0] += 1
    return jax.random.fold_in(rng, data)
  return _fold_in_jit(rng, data)


@set_module('flaxen.core.scope')
class LazyRng:
  """A base key and the path parts still to be folded into it.

  Attributes:
    rng: the base key (raw ``uint32[2]`` or a typed key array).
    suffix: a tuple of ``str``/``int`` parts.
  """

  __slots__ = ('rng', 'suffix')

  def __init__(self, rng: Any, suffix: tuple[LazyRngPart, ...] = ()):
    self.rng = rng
    self.suffix = suffix

  @staticmethod
  def create(rng: Any, *suffix: LazyRngPart) -> LazyRng:
    """Extends ``rng`` (a key or a ``LazyRng``) with more suffix parts."""
    if isinstance(rng, LazyRng):
      return LazyRng(rng.rng, rng.suffix + suffix)
    return LazyRng(rng, suffix)

  def as_jax_rng(self) -> Any:
    """The concrete key (base folded with the hashed suffix)."""
    return fold_in_static(self.rng, self.suffix)

  def clear_suffix(self) -> LazyRng:
    """The base key with the suffix dropped (not folded in)."""
    return LazyRng(self.rng, ())

  def __repr__(self) -> str:
    return f'LazyRng({self.rng!r}, suffix={self.suffix!r})'


jax.tree_util.register_pytree_node(
  LazyRng, lambda r: ((r.rng,), r.suffix), lambda suffix, xs: LazyRng(xs[0], suffix)
)


@set_module('flaxen.core.lift')
def tree_map_rngs(fn: Any, tree: Any) -> Any:
  """Applies ``fn`` to every typed PRNG key array in ``tree`` (a key array is one leaf)."""

  def is_key(x: Any) -> bool:
    dtype = getattr(x, 'dtype', None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)

  return jax.tree_util.tree_map(lambda x: fn(x) if is_key(x) else x, tree, is_leaf=is_key)


def is_valid_rng(rng: Any) -> bool:
  """Whether ``rng`` is one PRNG key: a raw ``uint32[2]`` array or a scalar typed key."""
  if not isinstance(rng, jax.Array | np.ndarray):
    return False
  dtype = rng.dtype
  if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
    return rng.shape == ()
  return rng.shape == _raw_key_shape() and dtype == np.uint32


_RAW_KEY_SHAPE: list[tuple[int, ...]] = []


def _raw_key_shape() -> tuple[int, ...]:
  if not _RAW_KEY_SHAPE:
    _RAW_KEY_SHAPE.append(jax.eval_shape(lambda: jax.random.PRNGKey(0)).shape)
  return _RAW_KEY_SHAPE[0]


def is_valid_rngs(rngs: Any) -> bool:
  """Whether ``rngs`` is a mapping from stream names to valid keys."""
  if not isinstance(rngs, Mapping):
    return False
  for k, v in rngs.items():
    if not isinstance(k, str):
      return False
    if not is_valid_rng(v) and not isinstance(v, LazyRng):
      return False
  return True
