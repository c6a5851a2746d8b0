"""Serialization throughput: ``to_bytes``/``from_bytes`` of a big tree and of many small leaves.

The big tree is the 48-layer decoder's params (~169 MB of float32); the small
one 5,000 arrays of 4 floats, where the per-leaf bookkeeping dominates.
Implementations: ``flaxen.serialization`` and, when installed, ``flax.serialization``
(interleaved, medians). There is no pure-JAX row: msgpack bytes are what is compared.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from . import timing


def small_tree(n: int = 5000):
  return {f'leaf_{i:05d}': jnp.full((4,), i, jnp.float32) for i in range(n)}


def _host_clock(fn) -> float:
  """Seconds of one call whose result lives on the host (bytes, numpy arrays).

  Not ``timing.clock``: its ``jax.block_until_ready`` on the restored tree walks
  every leaf (~0.7 us per numpy leaf), a cost of the instrument that would be
  added to both libraries' per-leaf figures alike.
  """
  t0 = time.perf_counter()
  fn()
  return time.perf_counter() - t0


def _nbytes(tree) -> int:
  return sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves(tree))


def run(serializers: dict, big_tree, budget, log) -> dict:
  """``{'big': {...}, 'small': {...}}`` with seconds, GB/s and µs per leaf per impl."""
  out = {}
  trees = {'big': big_tree, 'small': small_tree()}
  for label, tree in trees.items():
    if tree is None:
      continue
    n_leaves = len(jax.tree_util.tree_leaves(tree))
    size = _nbytes(tree)
    blobs = {name: ser.to_bytes(tree) for name, ser in serializers.items()}
    sizes = {len(b) for b in blobs.values()}
    assert len(sizes) == 1, f'serialized sizes differ between implementations: {sizes}'
    if len(blobs) > 1:
      first = next(iter(blobs.values()))
      assert all(b == first for b in blobs.values()), 'serialized bytes differ'
    warm = {}  # one untimed round trip each: the first from_bytes pays one-off costs
    for name, ser in serializers.items():
      warm[name] = _host_clock(lambda ser=ser, tree=tree: ser.to_bytes(tree))
      ser.from_bytes(tree, blobs[name])

    def task(ser, blob, tree=tree):
      def go():
        t_save = _host_clock(lambda: ser.to_bytes(tree))
        t_load = _host_clock(lambda: ser.from_bytes(tree, blob))
        return {'to_bytes': t_save, 'from_bytes': t_load}
      return go

    n = timing.repeats_for(2 * max(warm.values()), budget.budget, max(budget.lo, 5), budget.hi)
    t0 = time.perf_counter()
    raw = timing.interleaved({k: task(s, blobs[k]) for k, s in serializers.items()}, n)
    log(f'serialization {label}: {n} repeats in {time.perf_counter() - t0:.1f}s')
    entry = {'leaves': n_leaves, 'nbytes': size}
    for name, metrics in raw.items():
      if 'error' in metrics:
        entry[name] = metrics
        continue
      row = {}
      for metric, runs in metrics.items():
        med = timing.median(runs)
        row[metric] = {'median': med, 'runs': runs, 'GB/s': size / med / 1e9,
                       'us_per_leaf': med / n_leaves * 1e6}
      entry[name] = row
    out[label] = entry
  return out
