"""nn.pool / avg_pool / max_pool / min_pool against plain numpy window loops."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from flaxen import linen as nn


def np_pool(x, window, strides, pads, fn, fill):
  """Reference window reduction on (batch, *spatial, C) numpy inputs."""
  x = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=fill)
  spatial = x.shape[1:-1]
  out_sizes = [(s - w) // st + 1 for s, w, st in zip(spatial, window, strides)]
  out = np.empty((x.shape[0], *out_sizes, x.shape[-1]), x.dtype)
  for idx in itertools.product(*[range(n) for n in out_sizes]):
    sl = tuple(slice(i * st, i * st + w) for i, st, w in zip(idx, strides, window))
    block = x[(slice(None),) + sl + (slice(None),)]
    out[(slice(None),) + idx + (slice(None),)] = fn(block, axis=tuple(range(1, x.ndim - 1)))
  return out


X = np.random.default_rng(0).standard_normal((2, 6, 5, 3)).astype(np.float32)


@pytest.mark.parametrize('window, strides, pads', [
  ((2, 2), (2, 2), ((0, 0), (0, 0))),
  ((3, 2), (1, 2), ((1, 1), (0, 1))),
  ((1, 3), None, ((0, 0), (2, 0))),
])
def test_max_min_avg_explicit_padding(window, strides, pads):
  st = strides or (1,) * len(window)
  np.testing.assert_allclose(nn.max_pool(X, window, strides, pads),
                             np_pool(X, window, st, pads, np.max, -np.inf))
  np.testing.assert_allclose(nn.min_pool(X, window, strides, pads),
                             np_pool(X, window, st, pads, np.min, np.inf))
  np.testing.assert_allclose(nn.avg_pool(X, window, strides, pads),
                             np_pool(X, window, st, pads, np.sum, 0.0) / np.prod(window),
                             rtol=1e-6, atol=1e-6)


def test_avg_pool_count_exclude_pad_divides_by_real_elements():
  x = jnp.ones((1, 4, 4, 2))
  y = nn.avg_pool(x, (3, 3), padding='SAME', count_include_pad=False)
  np.testing.assert_allclose(y, np.ones((1, 4, 4, 2)), rtol=1e-6)
  y_inc = nn.avg_pool(x, (3, 3), padding='SAME')
  assert float(y_inc[0, 0, 0, 0]) == pytest.approx(4 / 9)


def test_unbatched_and_multi_batch_inputs():
  y = nn.max_pool(X[0], (2, 2), (2, 2))
  np.testing.assert_array_equal(y, nn.max_pool(X, (2, 2), (2, 2))[0])
  xb = np.stack([X, X * 2])
  y2 = nn.avg_pool(xb, (2, 2), padding='SAME', count_include_pad=False)
  assert y2.shape == (2, 2, 6, 5, 3)
  np.testing.assert_allclose(y2[1], nn.avg_pool(X * 2, (2, 2), padding='SAME',
                                               count_include_pad=False), rtol=1e-6)


def test_generic_pool_and_jit():
  f = jax.jit(lambda x: nn.pool(x, 0.0, lax.add, (2, 2), (1, 1), 'VALID'))
  np.testing.assert_allclose(f(X), np_pool(X, (2, 2), (1, 1), ((0, 0), (0, 0)), np.sum, 0.0),
                             rtol=1e-5, atol=1e-6)


def test_bad_inputs():
  with pytest.raises(TypeError, match='window_shape'):
    nn.max_pool(X, 2)
  with pytest.raises(ValueError, match='strides'):
    nn.max_pool(X, (2, 2), strides=(1,))
  with pytest.raises(ValueError, match='padding'):
    nn.max_pool(X, (2, 2), padding='FULL')
  with pytest.raises(ValueError, match='pair'):
    nn.max_pool(X, (2, 2), padding=((1, 1),))
  with pytest.raises(ValueError, match='rank'):
    nn.max_pool(jnp.ones((3, 3)), (2, 2))
