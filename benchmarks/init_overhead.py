"""Init and tracing overhead: flaxen vs hand-written pure JAX (vs `flax` when installed).

For three models — an MLP, the seeds' quickstart CNN and a 48-layer
Transformer-style stack (LayerNorm, attention written from Dense, MLP) — this
measures, in one process and side by side:

* un-jitted ``init`` (Python work + eager dispatch of the initializers and of the
  forward pass that ``init`` runs; the pure-JAX baseline runs its forward pass too);
* ``jax.jit(apply).lower(...)`` (tracing + lowering, no compilation).

The pure-JAX baselines create the same parameters with the same initializers and
run the same math. Ratios are printed, not asserted: this is a benchmark, not a
timed test. The issue's goal: flaxen's times at most 0.6x the reference's.

Run: ``.venv/bin/python benchmarks/init_overhead.py [--repeats N] [--layers L]``
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

import jax
import jax.numpy as jnp

# ----------------------------------------------------------------------------- models


def linen_models(nn, layers: int):
  """The three benchmark models written against a Linen-compatible `nn`."""

  class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
      for f in (512, 512, 256):
        x = nn.relu(nn.Dense(f)(x))
      return nn.Dense(10)(x)

  class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = nn.relu(nn.Conv(32, (3, 3))(x))
      x = nn.avg_pool(x, (2, 2), strides=(2, 2))
      x = nn.relu(nn.Conv(64, (3, 3))(x))
      x = nn.avg_pool(x, (2, 2), strides=(2, 2))
      x = x.reshape((x.shape[0], -1))
      x = nn.relu(nn.Dense(256)(x))
      return nn.Dense(10)(x)

  class Block(nn.Module):
    d: int
    heads: int

    @nn.compact
    def __call__(self, x):
      b, t, _ = x.shape
      hd = self.d // self.heads
      y = nn.LayerNorm()(x)
      q = nn.Dense(self.d)(y).reshape(b, t, self.heads, hd)
      k = nn.Dense(self.d)(y).reshape(b, t, self.heads, hd)
      v = nn.Dense(self.d)(y).reshape(b, t, self.heads, hd)
      w = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(hd), axis=-1)
      a = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, t, self.d)
      x = x + nn.Dense(self.d)(a)
      y = nn.LayerNorm()(x)
      y = nn.Dense(4 * self.d)(y)
      return x + nn.Dense(self.d)(nn.gelu(y))

  class Transformer(nn.Module):
    d: int = 64
    heads: int = 4
    n: int = layers

    @nn.compact
    def __call__(self, x):
      for _ in range(self.n):
        x = Block(self.d, self.heads)(x)
      return x

  return MLP(), CNN(), Transformer()


# ----------------------------------------------------------------------------- pure JAX

_lecun = jax.nn.initializers.lecun_normal()


def _dense_init(key, din, dout):
  return {"kernel": _lecun(key, (din, dout), jnp.float32), "bias": jnp.zeros((dout,), jnp.float32)}


def _dense(p, x):
  return x @ p["kernel"] + p["bias"]


def _ln_init(d):
  return {"scale": jnp.ones((d,), jnp.float32), "bias": jnp.zeros((d,), jnp.float32)}


def _ln(p, x, eps=1e-6):
  mean = jnp.mean(x, -1, keepdims=True)
  mean2 = jnp.mean(x * x, -1, keepdims=True)
  var = jnp.maximum(0.0, mean2 - mean * mean)
  return (x - mean) * jax.lax.rsqrt(var + eps) * p["scale"] + p["bias"]


def pure_mlp():
  dims = (784, 512, 512, 256, 10)

  def init(key, x):
    keys = jax.random.split(key, len(dims) - 1)
    return [_dense_init(k, a, b) for k, a, b in zip(keys, dims[:-1], dims[1:])]

  def apply(params, x):
    for p in params[:-1]:
      x = jax.nn.relu(_dense(p, x))
    return _dense(params[-1], x)

  return init, apply


def pure_cnn():
  def conv_init(key, cin, cout):
    return {"kernel": _lecun(key, (3, 3, cin, cout), jnp.float32), "bias": jnp.zeros((cout,))}

  def conv(p, x):
    y = jax.lax.conv_general_dilated(x, p["kernel"], (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + p["bias"]

  def pool(x):
    y = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return y / 4.0

  def init(key, x):
    k = jax.random.split(key, 4)
    return [conv_init(k[0], 1, 32), conv_init(k[1], 32, 64),
            _dense_init(k[2], 3136, 256), _dense_init(k[3], 256, 10)]

  def apply(p, x):
    x = pool(jax.nn.relu(conv(p[0], x)))
    x = pool(jax.nn.relu(conv(p[1], x)))
    x = x.reshape((x.shape[0], -1))
    return _dense(p[3], jax.nn.relu(_dense(p[2], x)))

  return init, apply


def pure_transformer(layers: int, d: int = 64, heads: int = 4):
  hd = d // heads

  def init(key, x):
    params = []
    for lk in jax.random.split(key, layers):
      k = jax.random.split(lk, 6)
      params.append({
        "ln1": _ln_init(d), "q": _dense_init(k[0], d, d), "k": _dense_init(k[1], d, d),
        "v": _dense_init(k[2], d, d), "o": _dense_init(k[3], d, d), "ln2": _ln_init(d),
        "up": _dense_init(k[4], d, 4 * d), "down": _dense_init(k[5], 4 * d, d),
      })
    return params

  def apply(params, x):
    b, t, _ = x.shape
    for p in params:
      y = _ln(p["ln1"], x)
      q = _dense(p["q"], y).reshape(b, t, heads, hd)
      k = _dense(p["k"], y).reshape(b, t, heads, hd)
      v = _dense(p["v"], y).reshape(b, t, heads, hd)
      w = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q, k) / jnp.sqrt(hd), axis=-1)
      a = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, t, d)
      x = x + _dense(p["o"], a)
      y = _ln(p["ln2"], x)
      x = x + _dense(p["down"], jax.nn.gelu(_dense(p["up"], y)))
    return x

  return init, apply


# ----------------------------------------------------------------------------- timing


def best_of(fn, repeats: int) -> float:
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    times.append(time.perf_counter() - t0)
  return min(times) if repeats < 5 else statistics.median(times)


def measure(init, apply, x, repeats, forward_in_init=False):
  """(init seconds, lower seconds). Linen's ``init`` also runs the forward pass once,
  so the pure-JAX baseline does too (``forward_in_init``) to compare like with like."""
  key = jax.random.PRNGKey(0)
  if forward_in_init:
    make = init

    def init(k, x):
      params = make(k, x)
      return params, apply(params, x)

  init(key, x)  # warm the primitive caches once
  t_init = best_of(lambda: init(key, x), repeats)
  params = init(key, x)
  if forward_in_init:
    params = params[0]
  # a fresh function each time, so jax's trace cache cannot answer for us
  t_lower = best_of(lambda: (jax.jit(lambda p, x: apply(p, x)).lower(params, x), 0)[1], repeats)
  return t_init, t_lower


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--layers", type=int, default=48)
  args = parser.parse_args(argv)

  inputs = {
    "MLP": jnp.ones((8, 784)),
    "CNN": jnp.ones((8, 28, 28, 1)),
    f"Transformer-{args.layers}": jnp.ones((2, 16, 64)),
  }
  pure = [pure_mlp(), pure_cnn(), pure_transformer(args.layers)]
  impls = {"flaxen": importlib.import_module("flaxen.linen")}
  try:
    impls["flax"] = importlib.import_module("flax.linen")
  except ImportError:
    pass

  print(f"jax {jax.__version__}, backend {jax.default_backend()}, repeats {args.repeats}")
  header = f"{'model':16s} {'what':6s} {'pure jax':>10s}"
  for name in impls:
    header += f" {name:>10s} {name + '/jax':>11s}"
  if "flax" in impls:
    header += f" {'flaxen/flax':>12s}"
  print(header)
  for (label, x), (pinit, papply), *mods in zip(
    inputs.items(), pure, *[linen_models(nn, args.layers) for nn in impls.values()]
  ):
    base = measure(pinit, papply, x, args.repeats, forward_in_init=True)
    results = {}
    for name, model in zip(impls, mods):
      results[name] = measure(
        lambda k, x, m=model: m.init(k, x),
        lambda p, x, m=model: m.apply(p, x),
        x, args.repeats,
      )
    for i, what in enumerate(("init", "lower")):
      line = f"{label:16s} {what:6s} {base[i] * 1e3:9.1f}ms"
      for name in impls:
        t = results[name][i]
        line += f" {t * 1e3:9.1f}ms {t / base[i]:10.2f}x"
      if "flax" in impls:
        line += f" {results['flaxen'][i] / results['flax'][i]:11.2f}x"
      print(line)


if __name__ == "__main__":
  main()
