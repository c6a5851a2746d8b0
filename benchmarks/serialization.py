"""Serialization speed: flaxen vs the reference ``flax`` (when importable), in one process.

Workloads (all built once, then timed round-robin so both libraries see the same
machine state; medians of ``--repeats`` rounds):

* ``big``: a 169 MB parameter tree (48 blocks of float32 matrices, jax arrays):
  ``to_bytes`` and ``from_bytes`` throughput in GB/s;
* ``small``: 5,000 small arrays (nested two levels, 16 float32 each, jax arrays
  and numpy arrays): microseconds per leaf for ``to_bytes`` and ``from_bytes``;
* ``maps``: a ~4 MB msgpack document made of many small maps of scalars:
  ``msgpack_restore`` time.

The issue's targets: keep ``big`` at or above 5 GB/s, and the per-leaf cost on
``small`` at most 0.5x the reference's. This is a benchmark, not a timed test:
numbers are printed (and written as JSON with ``--json``), nothing is asserted.

Run the side-by-side comparison with an interpreter that has both packages, e.g.
``PYTHONPATH=. /tmp/refvenv/bin/python benchmarks/serialization.py``; with only
flaxen installed the reference columns are left out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault('JAX_PLATFORMS', 'cpu')

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def big_tree(as_jax: bool = True) -> dict:
  """~169 MB of float32 in 48 blocks of 7 matrices (a Transformer-sized parameter tree)."""
  rng = np.random.default_rng(0)
  d, ff = 256, 1024
  shapes = {'q': (d, d), 'k': (d, d), 'v': (d, d), 'o': (d, d), 'up': (d, ff), 'down': (ff, d),
            'norm': (d,)}
  tree = {}
  for i in range(48):
    block = {k: rng.standard_normal(s, dtype=np.float32) for k, s in shapes.items()}
    tree[f'block_{i}'] = block
  emb = rng.standard_normal((16000, 256), dtype=np.float32)
  tree['embed'] = {'embedding': emb}
  if as_jax:
    tree = jax.tree_util.tree_map(jnp.asarray, tree)
  return tree


def small_tree(as_jax: bool) -> dict:
  """5,000 arrays of 16 float32, in 100 groups of 50."""
  base = np.arange(16, dtype=np.float32)
  tree = {f'group_{g}': {f'p_{i}': base + i for i in range(50)} for g in range(100)}
  if as_jax:
    tree = jax.tree_util.tree_map(jnp.asarray, tree)
  return tree


def map_heavy_bytes(packb) -> bytes:
  """A ~4 MB document of many small maps holding scalars and short strings."""
  doc = {
    f'record_{i}': {'id': i, 'score': i * 0.5, 'name': f'n{i}', 'tags': {'a': 1, 'b': None}}
    for i in range(80_000)
  }
  return packb(doc)


def nbytes(tree) -> int:
  return sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves(tree))


def time_once(fn) -> float:
  start = time.perf_counter()
  fn()
  return time.perf_counter() - start


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--repeats', type=int, default=7)
  parser.add_argument('--json', help='write the results to this file')
  args = parser.parse_args()

  libs = {'flaxen': importlib.import_module('flaxen.serialization')}
  try:
    libs['flax'] = importlib.import_module('flax.serialization')
  except ImportError:
    print('(flax is not importable here: reference columns left out)')

  big = big_tree()
  big_mb = nbytes(big) / 1e6
  smalls = {'jax': small_tree(True), 'numpy': small_tree(False)}
  n_small = len(jax.tree_util.tree_leaves(smalls['jax']))
  maps = map_heavy_bytes(libs['flaxen'].msgpack_serialize)

  encoded = {name: lib.to_bytes(big) for name, lib in libs.items()}
  if len({len(b) for b in encoded.values()}) != 1 or (
    'flax' in encoded and encoded['flax'] != encoded['flaxen']
  ):
    raise SystemExit('the libraries wrote different bytes for the big tree')
  big_bytes = encoded['flaxen']
  small_bytes = {kind: libs['flaxen'].to_bytes(t) for kind, t in smalls.items()}

  jobs = {}
  for name, lib in libs.items():
    jobs[(name, 'big to_bytes')] = lambda lib=lib: lib.to_bytes(big)
    jobs[(name, 'big from_bytes')] = lambda lib=lib: lib.from_bytes(big, big_bytes)
    for kind, tree in smalls.items():
      data = small_bytes[kind]
      jobs[(name, f'small[{kind}] to_bytes')] = lambda lib=lib, t=tree: lib.to_bytes(t)
      jobs[(name, f'small[{kind}] from_bytes')] = (
        lambda lib=lib, t=tree, d=data: lib.from_bytes(t, d))
    jobs[(name, 'maps msgpack_restore')] = lambda lib=lib: lib.msgpack_restore(maps)

  samples: dict = {key: [] for key in jobs}
  keys = list(jobs)
  for r in range(args.repeats):  # round-robin, rotating the order every round
    order = keys[r % len(keys):] + keys[:r % len(keys)]
    for key in order:
      samples[key].append(time_once(jobs[key]))
  med = {key: statistics.median(v) for key, v in samples.items()}

  results = {'machine': os.uname().machine, 'cpus': os.cpu_count(), 'big_mb': big_mb,
             'small_leaves': n_small, 'maps_mb': len(maps) / 1e6, 'rows': []}
  print(f'big tree {big_mb:.0f} MB, {n_small} small arrays, map-heavy input '
        f'{len(maps) / 1e6:.1f} MB; medians of {args.repeats} rounds')
  print(f'{"workload":<28}{"flaxen":>14}{"flax":>14}{"ratio":>8}')
  for what in dict.fromkeys(k[1] for k in keys):
    row = {'workload': what}
    for name in libs:
      t = med[(name, what)]
      if what.startswith('big'):
        row[name] = big_mb / 1e3 / t  # GB/s
      elif what.startswith('small'):
        row[name] = t / n_small * 1e6  # microseconds per leaf
      else:
        row[name] = t * 1e3  # milliseconds
    unit = 'GB/s' if what.startswith('big') else ('us/leaf' if what.startswith('small') else 'ms')
    ref = row.get('flax')
    ratio = row['flaxen'] / ref if ref else None
    row['unit'], row['ratio_flaxen_over_flax'] = unit, ratio
    results['rows'].append(row)
    ref_s = f'{ref:10.2f} {unit:<4}' if ref else f'{"-":>14}'
    ratio_s = f'{ratio:8.2f}' if ratio else f'{"-":>8}'
    print(f'{what:<28}{row["flaxen"]:9.2f} {unit:<4}{ref_s}{ratio_s}')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(results, f, indent=2)


if __name__ == '__main__':
  main()
