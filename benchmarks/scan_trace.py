"""Scan over layers: trace+lower time and compiled step time of a deep Transformer train step.

A 48-layer Transformer-style stack (LayerNorm, attention written from Dense,
GELU MLP) is trained with one SGD step, written four ways and measured in one
process, side by side:

* flaxen, layers unrolled (a Python loop of ``Block``s);
* flaxen, layers scanned with ``nn.scan`` (``variable_axes={'params': 0}``);
* hand-written pure JAX, unrolled (a list of per-layer parameter dicts);
* hand-written pure JAX, scanned (stacked parameters, ``lax.scan``);
* and ``flax.linen`` (both variants) when it is importable.

For each: ``jax.jit(step).lower(...)`` (tracing + lowering), compilation, and
the median compiled step time. The issue's goals: ``nn.scan`` makes tracing
much cheaper than unrolling, and the compiled step is within 2% of pure JAX.
Ratios are printed, not asserted (a benchmark, not a timed test).

XLA:CPU needs minutes to compile the *unrolled* 48-layer gradient, so by default
the unrolled variants are compiled and timed with ``--unrolled-compile-layers``
(8) layers; ``--unrolled-compile-layers 48`` measures the full model.

Run: ``.venv/bin/python benchmarks/scan_trace.py [--layers 48] [--repeats 3] [--steps 20]``
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

import jax
import jax.numpy as jnp

D, HEADS = 64, 4

# ----------------------------------------------------------------------------- Linen models


def linen_models(nn, layers: int):
  """(unrolled, scanned) Transformers written against a Linen-compatible ``nn``."""

  class Block(nn.Module):
    @nn.compact
    def __call__(self, x):
      b, t, _ = x.shape
      hd = D // HEADS
      y = nn.LayerNorm()(x)
      q = nn.Dense(D)(y).reshape(b, t, HEADS, hd)
      k = nn.Dense(D)(y).reshape(b, t, HEADS, hd)
      v = nn.Dense(D)(y).reshape(b, t, HEADS, hd)
      w = jax.nn.softmax(jnp.einsum('bqhd,bkhd->bhqk', q, k) / jnp.sqrt(hd), axis=-1)
      a = jnp.einsum('bhqk,bkhd->bqhd', w, v).reshape(b, t, D)
      x = x + nn.Dense(D)(a)
      y = nn.Dense(4 * D)(nn.LayerNorm()(x))
      return x + nn.Dense(D)(nn.gelu(y))

  class ScanBlock(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      return Block()(x), None

  class Unrolled(nn.Module):
    @nn.compact
    def __call__(self, x):
      for _ in range(layers):
        x = Block()(x)
      return x

  class Scanned(nn.Module):
    @nn.compact
    def __call__(self, x):
      stack = nn.scan(ScanBlock, variable_axes={'params': 0}, split_rngs={'params': True},
                      length=layers)
      return stack()(x, None)[0]

  return Unrolled(), Scanned()


# ----------------------------------------------------------------------------- pure JAX

_lecun = jax.nn.initializers.lecun_normal()


def _dense_init(key, din, dout):
  return {'kernel': _lecun(key, (din, dout), jnp.float32), 'bias': jnp.zeros((dout,))}


def _dense(p, x):
  # what a careful hand-written layer does: one dot_general, bias broadcast to full rank
  y = jax.lax.dot_general(x, p['kernel'], (((x.ndim - 1,), (0,)), ((), ())))
  return y + p['bias'].reshape((1,) * (y.ndim - 1) + (-1,))


def _ln(p, x, eps=1e-6):
  # mean of x and of x**2 from the same input, then the variance (DESIGN.md section 5);
  # XLA:CPU is sensitive to this order (x**2 first, then both means)
  x2 = jax.lax.square(x)
  mean = jnp.mean(x, -1)
  mean2 = jnp.mean(x2, -1)
  var = jnp.maximum(0.0, mean2 - jax.lax.square(mean))
  full = (1,) * (x.ndim - 1) + (-1,)
  y = x - mean[..., None]
  mul = jax.lax.rsqrt(var[..., None] + eps) * p['scale'].reshape(full)
  return y * mul + p['bias'].reshape(full)


def _block_init(key):
  k = jax.random.split(key, 6)
  ln = lambda: {'scale': jnp.ones((D,)), 'bias': jnp.zeros((D,))}
  return {'ln1': ln(), 'q': _dense_init(k[0], D, D), 'k': _dense_init(k[1], D, D),
          'v': _dense_init(k[2], D, D), 'o': _dense_init(k[3], D, D), 'ln2': ln(),
          'up': _dense_init(k[4], D, 4 * D), 'down': _dense_init(k[5], 4 * D, D)}


def _block(p, x):
  b, t, _ = x.shape
  hd = D // HEADS
  y = _ln(p['ln1'], x)
  q = _dense(p['q'], y).reshape(b, t, HEADS, hd)
  k = _dense(p['k'], y).reshape(b, t, HEADS, hd)
  v = _dense(p['v'], y).reshape(b, t, HEADS, hd)
  w = jax.nn.softmax(jnp.einsum('bqhd,bkhd->bhqk', q, k) / jnp.sqrt(hd), axis=-1)
  a = jnp.einsum('bhqk,bkhd->bqhd', w, v).reshape(b, t, D)
  x = x + _dense(p['o'], a)
  y = _dense(p['up'], _ln(p['ln2'], x))
  return x + _dense(p['down'], jax.nn.gelu(y))


def pure_models(layers: int):
  """(init, apply) pairs: unrolled and scanned."""

  def init_unrolled(key, x):
    return [_block_init(k) for k in jax.random.split(key, layers)]

  def apply_unrolled(params, x):
    for p in params:
      x = _block(p, x)
    return x

  def init_scanned(key, x):
    return jax.vmap(_block_init)(jax.random.split(key, layers))

  def apply_scanned(params, x):
    return jax.lax.scan(lambda c, p: (_block(p, c), None), x, params)[0]

  return (init_unrolled, apply_unrolled), (init_scanned, apply_scanned)


# ----------------------------------------------------------------------------- measuring


def train_step(apply):
  def step(params, x):
    loss = lambda p: jnp.mean(jax.lax.square(apply(p, x)))
    grads = jax.grad(loss)(params)
    return jax.tree_util.tree_map(lambda p, g: p - 1e-3 * g, params, grads)

  return step


def _best(fn, repeats):
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    out = fn()
    jax.block_until_ready(out)
    times.append(time.perf_counter() - t0)
  return min(times), out


def measure(init, apply, x, repeats, compile_too=True):
  """Trace+lower time (a fresh ``jax.jit`` each repeat, so no cache hit) and compile time."""
  params = jax.jit(init)(jax.random.PRNGKey(0), x)
  t_lower, lowered = _best(lambda: jax.jit(train_step(apply)).lower(params, x), repeats)
  if not compile_too:
    return {'lower': t_lower}
  t0 = time.perf_counter()
  compiled = lowered.compile()
  t_compile = time.perf_counter() - t0
  jax.block_until_ready(compiled(params, x))
  return {'lower': t_lower, 'compile': t_compile, 'run': (compiled, params)}


def time_steps(results, x, steps):
  """Median step time of every compiled variant, measured round-robin (fair under load)."""
  runs = {k: [] for k, r in results.items() if 'run' in r}
  for _ in range(steps):
    for key in runs:
      compiled, params = results[key]['run']
      t0 = time.perf_counter()
      jax.block_until_ready(compiled(params, x))
      runs[key].append(time.perf_counter() - t0)
  for key, times in runs.items():
    results[key]['step'] = statistics.median(times)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--layers', type=int, default=48)
  parser.add_argument('--repeats', type=int, default=3)
  parser.add_argument('--steps', type=int, default=20)
  parser.add_argument('--batch', type=int, default=8)
  parser.add_argument('--length', type=int, default=64)
  parser.add_argument('--unrolled-compile-layers', type=int, default=8)
  args = parser.parse_args(argv)
  x = jax.random.normal(jax.random.PRNGKey(1), (args.batch, args.length, D))

  impls = {'flaxen': importlib.import_module('flaxen.linen')}
  try:
    impls['flax'] = importlib.import_module('flax.linen')
  except ImportError:
    print('(flax is not installed: reference columns skipped)')

  small = args.unrolled_compile_layers
  results = {}

  def variants(layers):
    pure = pure_models(layers)
    out = {('jax', 'unrolled'): pure[0], ('jax', 'scan'): pure[1]}
    for name, nn in impls.items():
      unrolled, scanned = linen_models(nn, layers)
      for variant, model in (('unrolled', unrolled), ('scan', scanned)):
        out[(name, variant)] = (lambda k, x, m=model: m.init(k, x),
                                lambda p, x, m=model: m.apply(p, x))
    return out

  for key, fns in variants(args.layers).items():
    compile_too = key[1] == 'scan' or small == args.layers
    results[key] = measure(*fns, x, args.repeats, compile_too)
  if small != args.layers:
    for key, fns in variants(small).items():
      if key[1] == 'unrolled':
        got = measure(*fns, x, 1)
        results[key].update(compile=got['compile'], run=got['run'])
  time_steps(results, x, args.steps)

  print(f'jax {jax.__version__}, backend {jax.default_backend()}, {args.layers} layers, '
        f'x {tuple(x.shape)}, d={D}')
  if small != args.layers:
    print(f'(unrolled compile/step rows use {small} layers; lower rows use {args.layers})')
  cols = ['jax'] + list(impls)
  header = f"{'variant':9s} {'what':8s}" + ''.join(f' {c:>10s}' for c in cols)
  header += ''.join(f' {c + "/jax":>11s}' for c in impls)
  if 'flax' in impls:
    header += f" {'flaxen/flax':>12s}"
  print(header)
  for variant in ('unrolled', 'scan'):
    for what in ('lower', 'compile', 'step'):
      base = results[('jax', variant)][what]
      line = f'{variant:9s} {what:8s}'
      line += ''.join(f' {results[(c, variant)][what] * 1e3:8.1f}ms' for c in cols)
      line += ''.join(f' {results[(c, variant)][what] / base:10.3f}x' for c in impls)
      if 'flax' in impls:
        ratio = results[('flaxen', variant)][what] / results[('flax', variant)][what]
        line += f' {ratio:11.3f}x'
      print(line)
  for name in impls:
    speedup = results[(name, 'unrolled')]['lower'] / results[(name, 'scan')]['lower']
    print(f'{name}: nn.scan traces+lowers {speedup:.1f}x faster than unrolled')


if __name__ == '__main__':
  main()
