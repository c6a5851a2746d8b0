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


@pytest.mark.parametrize('call, exc, text', [
  (lambda: nn.max_pool(X, 2), TypeError, "object of type 'int' has no len()"),
  (lambda: nn.max_pool(jnp.ones((1, 4, 4, 1)), (2, 2), strides=(2,)), AssertionError,
   'len((2, 2)) must equal len((2,))'),
  (lambda: nn.max_pool(jnp.ones((4, 4)), (2, 2)), AssertionError,
   'len((4, 4)) != len((2, 2, 1))'),
  (lambda: nn.max_pool(jnp.ones((1, 4, 4, 1)), (3, 3), padding=((1, 1),)), AssertionError,
   'padding ((1, 1),) must specify pads for same number of dims as window_shape (3, 3)'),
  (lambda: nn.max_pool(jnp.ones((1, 4, 4, 1)), (3, 3), padding=((1, 1, 1), (1, 1, 1))),
   AssertionError, 'each entry in padding ((1, 1, 1), (1, 1, 1)) must be length 2'),
  (lambda: nn.max_pool(jnp.ones((1, 4, 4, 1)), (3, 3), padding=1), TypeError,
   "'int' object is not iterable"),
  (lambda: nn.max_pool(jnp.ones((1, 4, 4, 1)), (3, 3), padding='FOO'), RuntimeError,
   'Unrecognized padding type'),
])
def test_bad_inputs_fail_with_the_references_class_and_text(call, exc, text):
  with pytest.raises(exc) as info:
    call()
  assert text in str(info.value)
  if exc is AssertionError:
    assert isinstance(info.value, ValueError)


def test_accepts_more_than_the_reference():
  # lists for the window and strides, explicit padding with several batch axes, list inputs
  x = jnp.arange(32.0).reshape(2, 1, 4, 4, 1)
  a = nn.max_pool(x, [2, 2], strides=[2, 2], padding=((0, 0), (0, 0)))
  b = nn.max_pool(x.reshape(2, 4, 4, 1), (2, 2), strides=(2, 2))
  np.testing.assert_array_equal(a.reshape(b.shape), b)
  np.testing.assert_array_equal(nn.max_pool([[[1.0], [2.0]]], (1,)), [[[1.0], [2.0]]])
  np.testing.assert_array_equal(nn.max_pool(x, (2, 2), padding='valid'),
                                nn.max_pool(x, (2, 2), padding='VALID'))
