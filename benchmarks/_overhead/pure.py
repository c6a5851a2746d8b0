"""Hand-written pure-JAX layers: the floor the library is measured against.

Parameters are plain nested dicts (the same tree a Linen model builds), created
with ``jax.nn.initializers`` and the same PRNG keys: Linen derives the key of
the n-th random draw in a scope from the base key by one ``fold_in`` of
``SHA-1(path parts ... n)[:4]`` (``str`` parts as UTF-8, ``int`` parts as
minimal big-endian bytes). The hashes are computed once per path (cached), so
the floor pays only the ``fold_in`` itself. Constant initializers (zeros, ones)
take no key, as a hand-written model would do.

The forward functions run the same primitives in the same order as the layers
(e.g. LayerNorm: ``x²``, then ``E[x]``, ``E[x²]``, ``var = max(0, E[x²] - E[x]²)``,
``(x - E[x]) * (rsqrt(var + eps) * scale) + bias``), so outputs match bit for bit
and jaxprs have the same equations.
"""

from __future__ import annotations

import functools
import hashlib

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

lecun = jax.nn.initializers.lecun_normal()
embed_init = jax.nn.initializers.variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)
F32 = jnp.float32


@functools.cache
def _path_word(parts: tuple) -> np.uint32:
  digest = hashlib.sha1()
  for part in parts:
    if isinstance(part, int):
      digest.update(part.to_bytes(-(-part.bit_length() // 8), 'big'))
    else:
      digest.update(part.encode())
  return np.uint32(int.from_bytes(digest.digest()[:4], 'big'))


def key_at(base, *parts):
  """The key a Linen scope at ``parts[:-1]`` hands out for its ``parts[-1]``-th draw."""
  return jax.random.fold_in(base, _path_word(parts))


# ----------------------------------------------------------------------------- params


def dense_params(key, path, fan_in, features, bias=True, draw=1):
  out = {'kernel': lecun(key_at(key, *path, draw), (fan_in, features), F32)}
  if bias:
    out['bias'] = jnp.zeros((features,), F32)
  return out


def conv_params(key, path, window, fan_in, features, bias=True):
  out = {'kernel': lecun(key_at(key, *path, 1), (*window, fan_in, features), F32)}
  if bias:
    out['bias'] = jnp.zeros((features,), F32)
  return out


def norm_params(features):
  return {'scale': jnp.ones((features,), F32), 'bias': jnp.zeros((features,), F32)}


def running_stats(features):
  return {'mean': jnp.zeros((features,), F32), 'var': jnp.ones((features,), F32)}


def attention_params(key, path, d, heads, draw=1):
  """q/k/v kernels ``(d, heads, d // heads)`` and out ``(heads, d // heads, d)``; each
  kernel is drawn as the flat 2-D matrix and reshaped (fan-in of that matrix).
  ``draw``: the index of the kernel's draw in its scope."""
  hd = d // heads
  out = {}
  for name in ('query', 'key', 'value'):
    flat = lecun(key_at(key, *path, name, draw), (d, d), F32)
    out[name] = {'kernel': flat.reshape(d, heads, hd), 'bias': jnp.zeros((heads, hd), F32)}
  flat = lecun(key_at(key, *path, 'out', draw), (d, d), F32)
  out['out'] = {'kernel': flat.reshape(heads, hd, d), 'bias': jnp.zeros((d,), F32)}
  return out


# ----------------------------------------------------------------------------- forward


def _row(v, ndim):
  """``v`` (features,) viewed with ``ndim`` axes, features last."""
  return v.reshape((1,) * (ndim - 1) + (-1,))


def dense(p, x):
  y = lax.dot_general(x, p['kernel'], (((x.ndim - 1,), (0,)), ((), ())))
  if 'bias' in p:
    y = y + _row(p['bias'], y.ndim)
  return y


def conv(p, x, strides=(1, 1)):
  y = lax.conv_general_dilated(x, p['kernel'], strides, 'SAME', (1, 1), (1, 1),
                               ('NHWC', 'HWIO', 'NHWC'))
  if 'bias' in p:
    y = y + _row(p['bias'], y.ndim)
  return y


def avg_pool2(x):
  window = (1, 2, 2, 1)
  return lax.reduce_window(x, 0.0, lax.add, window, window, 'VALID') / np.prod((2, 2))


def moments(x, axes):
  """``(E[x], var)`` from one pass over ``x`` (same input for both means)."""
  sq = lax.square(x)
  mu, mu_sq = x.mean(axes), sq.mean(axes)
  return mu, jnp.maximum(0.0, mu_sq - lax.square(mu))


def affine_normalize(p, x, mu, var, axes, eps):
  mu, var = jnp.expand_dims(mu, axes), jnp.expand_dims(var, axes)
  centred = x - mu
  gain = lax.rsqrt(var + eps) * _row(p['scale'], x.ndim)
  return centred * gain + _row(p['bias'], x.ndim)


def layer_norm(p, x, eps=1e-6):
  mu, var = moments(x, (x.ndim - 1,))
  return affine_normalize(p, x, mu, var, (x.ndim - 1,), eps)


def batch_norm(p, stats, x, train, momentum=0.9, eps=1e-5):
  """Returns ``(y, new_stats)``; ``new_stats`` is ``stats`` when not training."""
  axes = tuple(range(x.ndim - 1))
  if not train:
    return affine_normalize(p, x, stats['mean'], stats['var'], axes, eps), stats
  mu, var = moments(x, axes)
  keep = 1 - momentum
  stats = {'mean': momentum * stats['mean'] + keep * mu,
           'var': momentum * stats['var'] + keep * var}
  return affine_normalize(p, x, mu, var, axes, eps), stats


def dropout(key, x, rate):
  keep = 1.0 - rate
  kept = jax.random.bernoulli(key, p=keep, shape=x.shape)
  kept = jnp.broadcast_to(kept, x.shape)
  return lax.select(kept, x / keep, jnp.zeros_like(x))


def causal_mask(tokens):
  pos = jnp.broadcast_to(jnp.arange(tokens.shape[-1], dtype=jnp.int32), tokens.shape)
  allowed = jnp.greater_equal(pos[..., :, None], pos[..., None, :])
  return jnp.expand_dims(allowed, -3).astype(F32)


def attention(p, x, mask, heads, drop_key=None, rate=0.0):
  """Self-attention of ``x [b, t, d]`` (projections, scaled scores, masked softmax,
  optional broadcast dropout of the weights, output projection). ``drop_key`` is a
  function giving the dropout key, called after the projections (where Linen draws it)."""
  proj = (((2,), (0,)), ((), ()))
  q, k, v = (lax.dot_general(x, p[n]['kernel'], proj) + p[n]['bias'].reshape(1, 1, heads, -1)
             for n in ('query', 'key', 'value'))
  drop_key = drop_key() if drop_key is not None else None
  q = q / jnp.sqrt(q.shape[-1]).astype(q.dtype)
  logits = jnp.einsum('...qhd,...khd->...hqk', q, k)
  logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
  weights = jax.nn.softmax(logits).astype(logits.dtype)
  if drop_key is not None:
    keep_prob = 1.0 - rate
    kept = jax.random.bernoulli(drop_key, keep_prob, (1, 1) + weights.shape[-2:])
    weights = weights * (kept.astype(weights.dtype) / jnp.asarray(keep_prob, weights.dtype))
  mixed = jnp.einsum('...hqk,...khd->...qhd', weights, v)
  out = lax.dot_general(mixed, p['out']['kernel'], (((2, 3), (0, 1)), ((), ())))
  return out + p['out']['bias'].reshape(1, 1, -1)
