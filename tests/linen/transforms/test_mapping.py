"""nn.vmap, nn.scan, nn.remat_scan and PARTITION_NAME metadata."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


class Block(nn.Module):
  @nn.compact
  def __call__(self, x, _):
    w = self.param('w', nn.with_partitioning(nn.initializers.lecun_normal(), ('in', 'out')),
                   (x.shape[-1], x.shape[-1]))
    return x @ w, None


def test_scan_partition_name_axis():
  stack = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True}, length=3,
                  metadata_params={nn.PARTITION_NAME: 'layers'})
  v = stack(name='s').init(jax.random.PRNGKey(0), jnp.ones((1, 2)), None)
  box = v['params']['w']
  assert isinstance(box, nn.Partitioned)
  assert box.names == ('layers', 'in', 'out') and box.value.shape == (3, 2, 2)
  spec = nn.get_partition_spec(v)['params']['w']
  assert tuple(spec) == ('layers', 'in', 'out')
  y, _ = stack(name='s').apply(v, jnp.ones((1, 2)), None)
  assert y.shape == (1, 2)


def test_scan_partitioned_without_partition_name_raises():
  from flaxen import errors

  stack = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True}, length=2)
  with pytest.raises(errors.PartitioningUnspecifiedError):
    stack().init(jax.random.PRNGKey(0), jnp.ones((1, 2)), None)


def test_vmap_in_axes_none_and_axis_size():
  ens = nn.vmap(nn.Dense, variable_axes={'params': 0}, split_rngs={'params': True},
                in_axes=None, axis_size=4)
  v = ens(3).init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert v['params']['kernel'].shape == (4, 2, 3)
  assert ens(3).apply(v, jnp.ones((1, 2))).shape == (4, 1, 3)


def test_scan_axis_error_names_collection_and_path():
  stack = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True}, length=3,
                  metadata_params={nn.PARTITION_NAME: None})
  v = stack(name='s').init(jax.random.PRNGKey(0), jnp.ones((1, 2)), None)
  bad = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True}, length=5,
                metadata_params={nn.PARTITION_NAME: None})
  with pytest.raises(ValueError, match=r'variable "params/w'):
    bad(name='s').apply(v, jnp.ones((1, 2)), None)


def test_remat_scan_class():
  stack = nn.remat_scan(nn.Dense, lengths=(2, 2))
  v = stack(3, name='d').init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert v['params']['kernel'].shape == (2, 2, 3, 3)
  x = jnp.ones((1, 3))
  for k, b in zip(v['params']['kernel'].reshape(4, 3, 3), v['params']['bias'].reshape(4, 3)):
    x = x @ k + b[None]
  np.testing.assert_allclose(stack(3, name='d').apply(v, jnp.ones((1, 3))), x, rtol=1e-5)


@pytest.mark.parametrize('which', ['init', 'apply', 'dropout', 'sow', 'capture', 'bind'])
def test_vmap_leaks_no_tracer(which):
  """Every vmap path returns without a batched tracer reachable (``jax.checking_leaks``)."""
  x = jnp.ones((4, 3))
  key = jax.random.key(0)
  dense = nn.vmap(nn.Dense, variable_axes={'params': 0}, split_rngs={'params': True})
  v = dense(2).init(key, x)

  class Drop(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.sow('intermediates', 'x', x)
      return nn.Dropout(0.5, deterministic=False)(x)

  drop = nn.vmap(Drop, variable_axes={'intermediates': 0}, split_rngs={'dropout': True})
  with jax.checking_leaks():
    if which == 'init':
      dense(2).init(key, x)
    elif which == 'apply':
      dense(2).apply(v, x)
    elif which == 'dropout':
      drop().apply({}, x, rngs={'dropout': key})
    elif which == 'sow':
      drop().apply({}, x, rngs={'dropout': key}, mutable=['intermediates'])
    elif which == 'capture':
      dense(2).apply(v, x, capture_intermediates=True)
    else:
      dense(2).bind(v)(x)


def test_scan_init_variants_give_the_same_bits():
  # eager init, init_with_output and a jitted init of a scanned stack all create the
  # parameters inside the loop (the reference's program): normal() kernels are bit-identical
  # (created outside the loop, by vmap over the keys, they differ in the last bits)
  class Block(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      x = nn.Dense(16, kernel_init=nn.initializers.normal(0.02))(x)
      return nn.tanh(nn.LayerNorm()(x)), None

  class Stack(nn.Module):
    @nn.compact
    def __call__(self, x):
      scanned = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True},
                        length=6)
      x, _ = scanned()(x, None)
      return nn.Dense(3)(x)

  x = jnp.ones((2, 16))
  key = jax.random.PRNGKey(3)
  model = Stack()
  want = jax.jit(lambda k, x: model.init_with_output(k, x)[1])(key, x)
  got = [model.init(key, x), model.init_with_output(key, x)[1], jax.jit(model.init)(key, x),
         model.lazy_init(key, jax.ShapeDtypeStruct(x.shape, x.dtype))]
  for variables in got:
    pairs = zip(jax.tree_util.tree_leaves(variables), jax.tree_util.tree_leaves(want))
    for a, b in pairs:
      np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
