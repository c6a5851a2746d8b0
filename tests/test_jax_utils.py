"""flaxen.jax_utils on 8 fake CPU devices."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import jax_utils

N = jax.local_device_count()


def test_eight_devices():
  assert N == 8


def test_replicate_unreplicate():
  tree = {'w': jnp.arange(6.0).reshape(2, 3), 'n': 3, 'np': np.ones(2, np.int8)}
  r = jax_utils.replicate(tree)
  assert r['w'].shape == (N, 2, 3) and r['n'].shape == (N,) and r['np'].dtype == np.int8
  assert [s.device for s in r['w'].addressable_shards] == jax.local_devices()
  for shard in r['w'].addressable_shards:
    np.testing.assert_array_equal(shard.data[0], tree['w'])
  u = jax_utils.unreplicate(r)
  np.testing.assert_array_equal(u['w'], tree['w'])
  assert int(u['n']) == 3
  r2 = jax_utils.replicate({'a': 1.0}, devices=jax.local_devices()[:2])
  assert r2['a'].shape == (2,)


def test_replicated_tree_feeds_pmap_and_pmean():
  r = jax_utils.replicate({'w': jnp.ones(3)})
  f = jax.pmap(lambda t, i: jax_utils.pmean(jax.tree_util.tree_map(lambda w: w * i, t), 'd'),
               axis_name='d')
  # deprecated as in the reference, with the reference's text
  with pytest.warns(DeprecationWarning, match='^use jax.lax.pmean instead$'):
    out = f(r, jnp.arange(N, dtype=jnp.float32))
  np.testing.assert_allclose(out['w'], np.full((N, 3), (N - 1) / 2))


def test_replicate_and_prefetch_shard_over_a_named_device_axis():
  # the reference's mesh-axis name by default (shardings compare equal), or the caller's
  r = jax_utils.replicate(jnp.ones(2))
  assert r.sharding.mesh.axis_names == ('_device_put_sharded',)
  assert r.sharding.spec == jax.sharding.PartitionSpec('_device_put_sharded')
  r = jax_utils.replicate(jnp.ones(2), axis_name='replica')
  assert r.sharding.spec == jax.sharding.PartitionSpec('replica')
  item = next(jax_utils.prefetch_to_device(iter([np.zeros((N, 2))]), 1, axis_name='batch'))
  assert item.sharding.mesh.axis_names == ('batch',)
  item = next(jax_utils.prefetch_to_device(iter([np.zeros((N, 2))]), 1))
  assert item.sharding.mesh.axis_names == ('_device_put_sharded',)


def test_unreplicate_returns_single_device_arrays():
  u = jax_utils.unreplicate(jax_utils.replicate({'w': jnp.arange(3.0)}))
  assert len(u['w'].devices()) == 1
  np.testing.assert_array_equal(u['w'], [0.0, 1.0, 2.0])
  out = jax.pmap(lambda x: x * 2)(jnp.arange(float(N)) + 1)
  first = jax_utils.unreplicate(out)
  assert first.shape == () and float(first) == 2.0 and len(first.devices()) == 1


def test_unreplicate_edge_cases_follow_the_reference():
  # a 0-d array has no replica axis: returned as it is
  x = jnp.float32(3.0)
  assert jax_utils.unreplicate(x) is x
  # a host array or a single-device array: its first row
  np.testing.assert_array_equal(jax_utils.unreplicate(np.arange(6).reshape(3, 2)), [0, 1])
  np.testing.assert_array_equal(jax_utils.unreplicate(jnp.arange(4.0)), 0.0)
  # a fully replicated array: the first local copy, whole
  mesh = jax.sharding.Mesh(np.array(jax.devices()), ('x',))
  full = jax.device_put(jnp.arange(8.0).reshape(4, 2), jax.sharding.NamedSharding(
    mesh, jax.sharding.PartitionSpec()))
  got = jax_utils.unreplicate(full)
  assert got.shape == (4, 2) and len(got.devices()) == 1
  # an array holding several rows per device is not a replicated one
  spread = jax.device_put(jnp.zeros((2 * N, 2)), jax.sharding.NamedSharding(
    mesh, jax.sharding.PartitionSpec('x')))
  with pytest.raises(ValueError, match='cannot select an axis to squeeze out'):
    jax_utils.unreplicate(spread)


def test_prefetch_to_device():
  batches = [{'x': np.full((N, 2), i)} for i in range(5)]
  got = list(jax_utils.prefetch_to_device(iter(batches), 2))
  assert len(got) == 5
  for i, b in enumerate(got):
    assert isinstance(b['x'], jax.Array) and len(b['x'].sharding.device_set) == N
    np.testing.assert_array_equal(b['x'], batches[i]['x'])
  # jax's IndivisibleError (a ValueError), as the reference lets it surface
  with pytest.raises(ValueError, match='implies that array axis 0 is partitioned'):
    list(jax_utils.prefetch_to_device(iter([np.zeros((N + 1, 2))]), 1))


def test_prefetch_splits_any_multiple_of_the_device_count():
  # the reference accepts several rows per device: axis 0 is split evenly
  (item,) = jax_utils.prefetch_to_device(iter([{'x': np.arange(3.0 * N * 2).reshape(3 * N, 2)}]), 1)
  assert item['x'].shape == (3 * N, 2)
  assert {s.data.shape for s in item['x'].addressable_shards} == {(3, 2)}
  np.testing.assert_array_equal(item['x'], np.arange(3.0 * N * 2).reshape(3 * N, 2))


def test_prefetch_of_a_scalar_leaf_raises_the_references_type_error():
  with pytest.raises(TypeError, match='not iterable'):
    next(jax_utils.prefetch_to_device(iter([{'x': 1.0}]), 1))
  with pytest.raises(TypeError, match='0-d array'):
    next(jax_utils.prefetch_to_device(iter([{'x': np.array(1.0)}]), 1))


def test_prefetch_is_lazy():
  pulled = []

  def source():
    for i in range(10):
      pulled.append(i)
      yield np.zeros((N,))

  it = jax_utils.prefetch_to_device(source(), 3)
  next(it)
  assert len(pulled) == 3  # the buffer is filled to `size`, nothing more
  next(it)
  assert len(pulled) == 4  # one refill per item handed out


def test_partial_eval_by_shape():
  def fn(x, y, scale):
    params = jnp.ones((2, 3)) * scale
    inner = jax.jit(lambda a, b: (a + 1.0, b * 2.0))(params, x)
    return {'params': params, 'out': x @ params, 'inner': inner, 'y': y}

  out = jax_utils.partial_eval_by_shape(fn, [(4, 2), ((5,), jnp.int32)], 3.0)
  np.testing.assert_allclose(out['params'], 3.0)
  np.testing.assert_allclose(out['inner'][0], 4.0)  # known part of a jit call
  assert out['out'] == jax.ShapeDtypeStruct((4, 3), jnp.float32)
  assert out['inner'][1] == jax.ShapeDtypeStruct((4, 2), jnp.float32)
  assert out['y'] == jax.ShapeDtypeStruct((5,), jnp.int32)


def test_scan_in_dim_matches_manual_loops():
  xs = jnp.arange(24.0).reshape(2, 3, 4)
  c, ys = jax_utils.scan_in_dim(lambda c, x: (c + x.sum(), x * 2), 0.0, xs, axis=1)
  assert float(c) == float(xs.sum())
  np.testing.assert_allclose(ys, xs * 2)
  def body(c, x):
    return c * 10 + x[0], x

  c, ys = jax_utils.scan_in_dim(body, 0.0, xs[:, :1, :2], axis=(2, 0), unroll=2)
  # outer loop over axis 2 (2 steps), inner over axis 0 (2 steps): x[0] = xs[i, 0, j]
  manual = 0.0
  for j in range(2):
    for i in range(2):
      manual = manual * 10 + float(xs[i, 0, j])
  assert float(c) == manual
  np.testing.assert_allclose(ys, xs[:, :1, :2])


def test_scan_in_dim_keepdims():
  xs = jnp.arange(12.0).reshape(3, 4)
  shapes = []

  def body(c, x):
    shapes.append(x.shape)
    return c, x + 1

  _, ys = jax_utils.scan_in_dim(body, 0, xs, axis=(1,), keepdims=True)
  assert shapes[0] == (3, 1)
  np.testing.assert_allclose(ys, xs + 1)


def test_scan_in_dim_ignores_unroll_factors_beyond_the_axes():
  # the reference accepts them (the loops use the first len(axis) factors)
  xs = jnp.arange(12.0).reshape(3, 4)
  c, ys = jax_utils.scan_in_dim(lambda c, x: (c + x.sum(), x), 0.0, xs, axis=(1,), unroll=(2, 5))
  assert float(c) == float(xs.sum())
  np.testing.assert_array_equal(ys, xs)


@pytest.mark.parametrize('batch', [1, 7, 8, 9, 33])
def test_pad_shard_unpad_any_batch(batch):
  shapes = []

  @jax.pmap
  def f(params, x):
    shapes.append(x.shape)
    return {'y': x * params, 'sum': x.sum(axis=-1)}

  params = jax_utils.replicate(jnp.float32(2.0))
  x = np.arange(batch * 3, dtype=np.float32).reshape(batch, 3)
  out = jax_utils.pad_shard_unpad(f)(params, x)
  assert isinstance(out['y'], np.ndarray)
  np.testing.assert_allclose(out['y'], x * 2)
  np.testing.assert_allclose(out['sum'], x.sum(-1))
  assert shapes[-1] == (-(-batch // N), 3)


def test_pad_shard_unpad_min_device_batch_avoids_recompiles():
  traced = []

  @jax.pmap
  def f(x):
    traced.append(x.shape)
    return x + 1

  g = jax_utils.pad_shard_unpad(f, static_argnums=())
  for batch in (64, 64, 13, 40):
    out = g(np.ones((batch, 2), np.float32), min_device_batch=8)
    assert out.shape == (batch, 2)
  assert traced == [(8, 2)]  # one compilation for every batch size


def test_pad_shard_unpad_static_args_kwargs_and_return():
  @jax.pmap
  def f(scale, x, y):
    return x * scale + y

  g = jax_utils.pad_shard_unpad(lambda s, x, *, y, note: f(s, x, y), static_argnames=('note',))
  out = g(jax_utils.replicate(jnp.float32(3.0)), np.ones((5, 2), np.float32),
          y=np.ones((5, 2), np.float32), note='not sharded')
  np.testing.assert_allclose(out, np.full((5, 2), 4.0))
  h = jax_utils.pad_shard_unpad(jax.pmap(lambda x: x.sum()), static_argnums=(), static_return=True)
  raw = h(np.ones((3, 1)))
  assert raw.shape == (N,)  # not unpadded
  np.testing.assert_allclose(np.asarray(raw).sum(), 3.0)


def test_pad_shard_unpad_errors():
  g = jax_utils.pad_shard_unpad(jax.pmap(lambda a, b: a + b), static_argnums=())
  # the reference asserts: an AssertionError with its text (also a ValueError here)
  with pytest.raises(AssertionError, match=r'^Inconsistent batch-sizes: \{3, 4\} '):
    g(np.ones((3, 1)), np.ones((4, 1)))
  with pytest.raises(ValueError, match=r'argument 0: 3, argument 1: 4'):
    g(np.ones((3, 1)), np.ones((4, 1)))
  with pytest.raises(AssertionError, match=r'^Inconsistent batch-sizes: set\(\)'):
    jax_utils.pad_shard_unpad(jax.pmap(lambda: 0))()
  # a scalar leaf: the reference's errors from ``leaf.shape[0]``
  with pytest.raises(AttributeError, match="'float' object has no attribute 'shape'"):
    g(np.ones((3, 1)), 1.0)
  with pytest.raises(IndexError, match='tuple index out of range') as info:
    g(np.ones((3, 1)), np.float32(1.0))
  if hasattr(info.value, '__notes__'):
    assert 'argument 1 is a scalar' in info.value.__notes__[0]


def test_full_eval_guide_metrics_pattern():
  # seeds L29995-L30060: metrics static, batch padded with a zero mask, static return
  def eval_step(metrics, variables, batch):
    preds = jax.nn.one_hot(jnp.zeros(len(batch['image']), jnp.int32), 10)
    correct = (batch['mask'] & (batch['label'] == preds.argmax(axis=-1))).sum()
    total = batch['mask'].sum()
    return dict(correct=metrics['correct'] + jax.lax.psum(correct, axis_name='batch'),
                total=metrics['total'] + jax.lax.psum(total, axis_name='batch'))

  eval_step = jax.pmap(eval_step, axis_name='batch')
  eval_step = jax_utils.pad_shard_unpad(eval_step, static_argnums=(0, 1), static_return=True)
  labels = np.array([0, 1, 0, 2, 0] * 7)  # 35 examples, 21 of class 0
  metrics = jax_utils.replicate(dict(correct=jnp.array(0, jnp.int32), total=jnp.array(0, jnp.int32)))
  for start in range(0, 35, 16):
    lab = labels[start:start + 16]
    batch = {'image': np.zeros((len(lab), 2, 2, 1), np.float32), 'label': lab,
             'mask': np.ones_like(lab)}
    metrics = eval_step(metrics, {}, batch, min_device_batch=2)
  assert (metrics['correct'][0].item(), metrics['total'][0].item()) == (21, 35)
  assert collections.Counter(np.asarray(metrics['total']).tolist()) == {35: N}


def test_partial_eval_by_shape_of_a_module_init_is_bit_exact():
  from flaxen import linen as nn
  model = nn.Dense(3)
  key = jax.random.PRNGKey(0)
  out, variables = jax_utils.partial_eval_by_shape(
    lambda x: model.init_with_output(key, x), [((2, 4), jnp.float32)])
  assert out == jax.ShapeDtypeStruct((2, 3), jnp.float32)
  ref = model.init(key, jnp.ones((2, 4)))
  np.testing.assert_array_equal(variables['params']['kernel'], ref['params']['kernel'])
  np.testing.assert_array_equal(variables['params']['bias'], ref['params']['bias'])
