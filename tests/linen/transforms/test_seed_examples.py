"""The docs' transform examples, run unchanged with ``nn`` bound to ``flaxen.linen``.

Sources (seeds/002): the "Lifted transformations" design note (L10602-L11143),
the API examples of nn.vmap/nn.scan/nn.remat/nn.remat_scan/nn.map_variables
(L16192-L17290) and the pjit guide's scan-over-layers (L5399-L6365). Only the
JAX calls that no longer exist in this JAX are updated (``pjit`` with
``*_axis_resources`` -> ``jax.jit`` with ``*_shardings``, ``jax.tree_map`` ->
``jax.tree_util.tree_map``); the flaxen code is verbatim.
"""

import functools

import jax
import numpy as np
import optax
from jax import numpy as jnp
from jax import random
from jax.sharding import Mesh, PartitionSpec

from flaxen import linen as nn
from flaxen.linen import spmd
from flaxen.training import train_state


class MLP(nn.Module):
  @nn.compact
  def __call__(self, xs):
    h = nn.Dense(4, name='hidden')(xs)
    h = nn.relu(h)
    return nn.Dense(1, name='out')(h)


def shapes(tree):
  return jax.tree_util.tree_map(jnp.shape, tree)


def test_design_note_manual_and_linen_vmap():
  class ManualVmapMLP(nn.Module):
    @nn.compact
    def __call__(self, xs):
      mlp = MLP(parent=None)
      init_fn = lambda rng, xs: jax.vmap(mlp.init, in_axes=0)(random.split(rng, xs.shape[0]), xs)['params']
      apply_fn = jax.vmap(mlp.apply, in_axes=0)
      mlp_params = self.param('mlp', init_fn, xs)
      return apply_fn({'params': mlp_params}, xs)

  class LinenVmapMLP(nn.Module):
    @nn.compact
    def __call__(self, xs):
      VmapMLP = nn.vmap(MLP, variable_axes={'params': 0}, split_rngs={'params': True}, in_axes=0)
      return VmapMLP(name='mlp')(xs)

  xs = jnp.ones((3, 4))
  manual = ManualVmapMLP().init(random.PRNGKey(0), xs)
  expected = {'mlp': {'hidden': {'bias': (3, 4), 'kernel': (3, 4, 4)},
                      'out': {'bias': (3, 1), 'kernel': (3, 4, 1)}}}
  assert shapes(manual['params']) == expected
  variables = LinenVmapMLP().init(random.PRNGKey(0), xs)
  # the docs print (3, 2, 4) for the kernel: a stale artefact (SPEC 1.16 item 8)
  assert shapes(variables['params']) == expected


def test_design_note_stateful_vmap():
  class StatefulMLP(nn.Module):
    @nn.compact
    def __call__(self, x, *, train):
      h = nn.Dense(4, name='hidden')(x)
      h = nn.BatchNorm(axis_name='batch')(h, use_running_average=not train)
      h = nn.relu(h)
      return nn.Dense(1, name='out')(h)

  class LinenStatefulVmapMLP(nn.Module):
    @nn.compact
    def __call__(self, xs, *, train):
      VmapMLP = nn.vmap(StatefulMLP, variable_axes={'params': 0, 'batch_stats': 0}, split_rngs={'params': True}, in_axes=0)
      return VmapMLP(name='mlp')(xs, train=train)

  xs = jnp.ones((3, 4))
  variables = LinenStatefulVmapMLP().init(random.PRNGKey(0), xs, train=False)
  assert shapes(variables['batch_stats'])['mlp']['BatchNorm_0']['mean'] == (3, 4)


def test_vmap_api_examples():
  BatchDense = nn.vmap(
      nn.Dense,
      in_axes=0, out_axes=0,
      variable_axes={'params': 0},
      split_rngs={'params': True})
  v = BatchDense(2).init(random.PRNGKey(0), jnp.ones((5, 3)))
  assert v['params']['kernel'].shape == (5, 3, 2)
  BatchFoo = nn.vmap(
      MLP,
      in_axes=0, out_axes=0,
      variable_axes={'params': None},
      split_rngs={'params': False})
  v = BatchFoo().init(random.PRNGKey(0), jnp.ones((5, 3)))
  assert v['params']['hidden']['kernel'].shape == (3, 4)


def test_scan_api_examples():
  class LSTM(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
      batch_size = x.shape[0]
      ScanLSTMCell = nn.scan(
        nn.LSTMCell, variable_broadcast="params",
        split_rngs={"params": False}, in_axes=1, out_axes=1)

      # today's LSTMCell takes `features` and an input shape (the docs show the
      # older static `initialize_carry(rng, (batch_size,), features)`)
      carry = nn.LSTMCell(self.features).initialize_carry(
        jax.random.PRNGKey(0), (batch_size, x.shape[-1]))
      carry, x = ScanLSTMCell(self.features)(carry, x)
      return x

  x = jnp.ones((4, 12, 7))
  module = LSTM(features=32)
  y, variables = module.init_with_output(jax.random.PRNGKey(0), x)
  assert y.shape == (4, 12, 32)

  class FunctionalLSTM(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x):
      cell = nn.LSTMCell(self.features)

      def body_fn(cell, carry, x):
        carry, y = cell(carry, x)
        return carry, y

      scan = nn.scan(
        body_fn, variable_broadcast="params",
        split_rngs={"params": False}, in_axes=1, out_axes=1)
      carry = cell.initialize_carry(jax.random.PRNGKey(0), x[:, 0].shape)  # see above
      carry, x = scan(cell, carry, x)
      return x

  v2 = FunctionalLSTM(features=32).init(jax.random.PRNGKey(0), x)
  assert shapes(v2['params']['LSTMCell_0']) == shapes(variables['params']['ScanLSTMCell_0'])

  class ResidualMLPBlock(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      h = nn.Dense(features=2)(x)
      h = nn.relu(h)
      return x + h, None

  class ResidualMLP(nn.Module):
    n_layers: int = 4

    @nn.compact
    def __call__(self, x):
      ScanMLP = nn.scan(
        ResidualMLPBlock, variable_axes={'params': 0},
        variable_broadcast=False, split_rngs={'params': True},
        length=self.n_layers)
      x, _ = ScanMLP()(x, None)
      return x

  model = ResidualMLP(n_layers=4)
  variables = model.init(jax.random.PRNGKey(42), jnp.ones((1, 2)))
  assert variables['params']['ScanResidualMLPBlock_0']['Dense_0']['kernel'].shape == (4, 2, 2)


def test_remat_and_remat_scan_examples():
  class CheckpointedMLP(nn.Module):
    @nn.compact
    def __call__(self, x):
      CheckpointDense = nn.checkpoint(nn.Dense)
      x = CheckpointDense(128)(x)
      x = nn.relu(x)
      x = CheckpointDense(1)(x)
      return x

  variables = CheckpointedMLP().init(jax.random.PRNGKey(0), jnp.ones((1, 16)))
  assert list(variables['params']) == ['CheckpointDense_0', 'CheckpointDense_1']

  class BigModel(nn.Module):
    @nn.compact
    def __call__(self, x):
      DenseStack = nn.remat_scan(nn.Dense, lengths=(10, 10))
      # 100x dense with O(sqrt(N)) memory for gradient computation
      return DenseStack(8, name="dense_stack")(x)

  v = jax.eval_shape(lambda: BigModel().init(jax.random.PRNGKey(0), jnp.ones((1, 8))))
  assert v['params']['dense_stack']['kernel'].shape == (10, 10, 8, 8)


def test_map_variables_example():
  class CausalDense(nn.Module):
    '''A dense layer that masks the weights such that the output is
    causal, i.e. output i only depends on input <= i.
    '''
    features: int

    def apply_mask(self, variables):
      return (jax.tree_util.tree_map(jnp.triu, variables)
              if not self.is_initializing() else variables)

    def setup(self):
      # temporary class
      _CausalDense = nn.map_variables(
        nn.Dense, 'params', self.apply_mask, init=self.is_initializing())
      self.dense = _CausalDense(features=self.features, use_bias=False)

    def __call__(self, x):
      return self.dense(x)

  module = CausalDense(features=5)
  variables = module.init(jax.random.PRNGKey(0), jnp.ones((1, 5)))
  assert variables['params']['dense']['kernel'].shape == (5, 5)


# ------------------------------------------------------------------ pjit guide


class DotReluDot(nn.Module):
  depth: int
  @nn.compact
  def __call__(self, x):
    W1 = self.param(
        'W1',
        nn.with_partitioning(nn.initializers.xavier_normal(), (None, 'model')),
        (x.shape[-1], self.depth))

    y = jax.nn.relu(jnp.dot(x, W1))
    # Force a local sharding annotation.
    y = jax.lax.with_sharding_constraint(y, PartitionSpec('data', 'model'))

    W2 = self.param(
        'W2',
        nn.with_partitioning(nn.initializers.xavier_normal(), ('model', None)),
        (self.depth, x.shape[-1]))

    z = jnp.dot(y, W2)
    # Force a local sharding annotation.
    z = jax.lax.with_sharding_constraint(z, PartitionSpec('data', None))

    # Return a tuple to conform with the API `flax.linen.scan` as shown in the cell below.
    return z, None


class GuideMLP(nn.Module):
  num_layers: int
  depth: int
  use_scan: bool
  @nn.compact
  def __call__(self, x):
    if self.use_scan:
      x, _ = nn.scan(DotReluDot, length=self.num_layers,
                     variable_axes={"params": 0},
                     split_rngs={"params": True},
                     metadata_params={nn.PARTITION_NAME: None}
                     )(self.depth)(x)
    else:
      for i in range(self.num_layers):  # noqa: B007 (verbatim from the guide)
        x, _ = DotReluDot(self.depth)(x)
    return x


class LogicalDotReluDot(nn.Module):
  depth: int
  @nn.compact
  def __call__(self, x):
    W1 = self.param(
        'W1',
        spmd.with_logical_partitioning(nn.initializers.xavier_normal(), ('embed', 'hidden')),
        (x.shape[-1], self.depth))

    y = jax.nn.relu(jnp.dot(x, W1))
    # Force a local sharding annotation.
    y = spmd.with_logical_constraint(y, ('batch', 'hidden'))

    W2 = self.param(
        'W2',
        spmd.with_logical_partitioning(nn.initializers.xavier_normal(), ('hidden', 'embed')),
        (self.depth, x.shape[-1]))

    z = jnp.dot(y, W2)
    # Force a local sharding annotation.
    z = spmd.with_logical_constraint(z, ('batch', 'embed'))
    return z, None


class LogicalMLP(nn.Module):
  num_layers: int
  depth: int
  use_scan: bool
  @nn.compact
  def __call__(self, x):
    if self.use_scan:
      x, _ = nn.scan(LogicalDotReluDot, length=self.num_layers,
                    variable_axes={"params": 0},
                    split_rngs={"params": True},
                    metadata_params={nn.PARTITION_NAME: 'layer'}
                    )(self.depth)(x)
    else:
      for i in range(self.num_layers):  # noqa: B007 (verbatim from the guide)
        x, _ = DotReluDot(self.depth)(x)
    return x


def init_fn(k, x, model, optimizer):
  variables = model.init(k, x) # Initialize the model.
  state = train_state.TrainState.create( # Create a `TrainState`.
    apply_fn=model.apply,
    params=variables['params'],
    tx=optimizer)
  return state


def test_pjit_guide_scan_over_layers():
  device_mesh = np.array(jax.devices()[:8]).reshape(2, 4)
  mesh = Mesh(devices=device_mesh, axis_names=('data', 'model'))
  BATCH, LAYERS, DEPTH, USE_SCAN = 8, 4, 16, True
  x = jnp.ones((BATCH, DEPTH))
  k = random.PRNGKey(0)
  optimizer = optax.adam(learning_rate=0.001)
  model = GuideMLP(LAYERS, DEPTH, USE_SCAN)
  with jax.set_mesh(mesh):
    abstract_variables = jax.eval_shape(
        functools.partial(init_fn, model=model, optimizer=optimizer), k, x)
  state_spec = nn.get_partition_spec(abstract_variables)
  assert state_spec.params['ScanDotReluDot_0']['W1'] == PartitionSpec(None, None, 'model')
  assert state_spec.params['ScanDotReluDot_0']['W2'] == PartitionSpec(None, 'model', None)

  x_spec = PartitionSpec('data', None)
  shard = lambda spec: jax.tree_util.tree_map(
    lambda s: jax.sharding.NamedSharding(mesh, s), spec,
    is_leaf=lambda s: isinstance(s, PartitionSpec))
  with jax.set_mesh(mesh):
    pjit_init_fn = jax.jit(init_fn, static_argnums=(2, 3),
                           in_shardings=(shard(PartitionSpec(None)), shard(x_spec)),
                           out_shardings=shard(state_spec))
    initialized_state = pjit_init_fn(k, x, model, optimizer)
  w1 = initialized_state.params['ScanDotReluDot_0']['W1']
  assert type(w1).__name__ == 'Partitioned' and w1.value.shape == (4, DEPTH, DEPTH)
  assert w1.value.sharding.spec == PartitionSpec(None, None, 'model')

  def train_step(state, x):
    def loss_unrolled(params):
      y = model.apply({'params': params}, x)
      return y.sum()
    grads = jax.grad(loss_unrolled)(state.params)
    return state.apply_gradients(grads=grads)

  with jax.set_mesh(mesh):
    step = jax.jit(train_step, in_shardings=(shard(state_spec), shard(x_spec)),
                   out_shardings=shard(state_spec))
    new_state = step(initialized_state, x)
  assert new_state.step == 1

  logical_model = LogicalMLP(LAYERS, DEPTH, USE_SCAN)
  logical_abstract_variables = jax.eval_shape(
      functools.partial(init_fn, model=logical_model, optimizer=optimizer), k, x)
  logical_output_spec = nn.get_partition_spec(logical_abstract_variables)
  assert logical_output_spec.params['ScanLogicalDotReluDot_0']['W1'] == PartitionSpec('layer', 'embed', 'hidden')
  rules = (('batch', 'data'),
           ('hidden', 'model'))
  logical_state_spec = spmd.logical_to_mesh(logical_output_spec, rules)
  assert state_spec.params['ScanDotReluDot_0'] == logical_state_spec.params['ScanLogicalDotReluDot_0']
