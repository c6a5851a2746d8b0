"""The seeds' checkpoint guides (legacy API parts) run with ``flax`` -> ``flaxen``.

Sources (the seeds' document 002, not read by this test): "Save and load checkpoints" L3902-L5105 and "Migrate
checkpointing to Orbax" L7386-L7673 / notebook L30947-L31360. Code cells are
copied unchanged except: ``flax`` -> ``flaxen``; ``jax.tree_map`` (removed from
JAX itself) -> ``jax.tree_util.tree_map``; Orbax-only cells are left out (Orbax
is an optional extra) and ``orbax_checkpointer=`` is dropped from the one legacy
call that passes it. Expected values are the notebook outputs, except random
numbers (``random.normal`` / the Dense initializer), which depend on the JAX
version the docs were built with; those are compared with the values this run
generated before saving.
"""

from typing import Any

import jax
import numpy as np
import optax
import pytest
from jax import numpy as jnp
from jax import random

import flaxen
from flaxen import linen as nn
from flaxen import serialization
from flaxen.training import checkpoints, train_state


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  # the guide's cells use the legacy msgpack format unless they switch to Orbax themselves;
  # the flag's default (Orbax, as in the reference) is restored afterwards
  with flaxen.config.temp_flip_flag('use_orbax_checkpointing', False):
    yield tmp_path


def guide_setup():
  # L3988-L4018, unchanged but for jax.tree_map
  key1, key2 = random.split(random.PRNGKey(0))
  x1 = random.normal(key1, (5,))      # A simple JAX array.
  model = nn.Dense(features=3)
  variables = model.init(key2, x1)
  tx = optax.sgd(learning_rate=0.001)      # An Optax SGD optimizer.
  state = train_state.TrainState.create(
      apply_fn=model.apply,
      params=variables['params'],
      tx=tx)
  state = state.apply_gradients(grads=jax.tree_util.tree_map(jnp.ones_like, state.params))
  config = {'dimensions': np.array([5, 3]), 'name': 'dense'}
  ckpt = {'model': state, 'config': config, 'data': [x1]}
  return model, variables, tx, state, config, x1, ckpt


def check_params(params, saved, numpy=True):
  np.testing.assert_allclose(params['bias'], [-0.001, -0.001, -0.001], rtol=1e-6)
  np.testing.assert_array_equal(params['kernel'], saved['kernel'])
  assert params['kernel'].shape == (5, 3)
  if numpy:
    assert isinstance(params['kernel'], np.ndarray) and isinstance(params['bias'], np.ndarray)


def test_save_and_load_checkpoints_guide(in_tmp):
  model, variables, tx, state, config, x1, ckpt = guide_setup()
  saved = state.params
  check_params(state.params, saved, numpy=False)

  # L4202-L4215
  path = checkpoints.save_checkpoint(ckpt_dir='tmp/flax-checkpointing',
                                     target=ckpt,
                                     step=0,
                                     overwrite=True,
                                     keep=2)
  assert path == 'tmp/flax-checkpointing/checkpoint_0'

  # L4308-L4334: raw restore layout
  raw_restored = checkpoints.restore_checkpoint(ckpt_dir='tmp/flax-checkpointing', target=None)
  assert list(raw_restored) == ['model', 'config', 'data']
  assert list(raw_restored['model']) == ['step', 'params', 'opt_state']
  assert raw_restored['model']['step'] == 1
  check_params(raw_restored['model']['params'], saved)
  assert raw_restored['model']['opt_state'] == {'0': {}, '1': {}}
  np.testing.assert_array_equal(raw_restored['config']['dimensions'], [5, 3])
  assert raw_restored['config']['name'] == 'dense'
  assert list(raw_restored['data']) == ['0']
  np.testing.assert_array_equal(raw_restored['data']['0'], x1)

  # L4358-L4371, L4469-L4498: restore with a target
  empty_state = train_state.TrainState.create(
      apply_fn=model.apply,
      params=jax.tree_util.tree_map(np.zeros_like, variables['params']),  # values of the tree leaf doesn't matter
      tx=tx,
  )
  empty_config = {'dimensions': np.array([0, 0]), 'name': ''}
  target = {'model': empty_state, 'config': empty_config, 'data': [jnp.zeros_like(x1)]}
  restored = checkpoints.restore_checkpoint(ckpt_dir='tmp/flax-checkpointing', target=target)
  assert type(restored['model']) is train_state.TrainState
  assert restored['model'].step == 1 and restored['model'].apply_fn == model.apply
  check_params(restored['model'].params, saved)
  assert restored['model'].opt_state == (optax.EmptyState(), optax.EmptyState())
  assert restored['config']['name'] == 'dense'
  assert isinstance(restored['data'], list)

  # L4560-L4575, L4744-L4797: structures that differ, through the raw state dict
  class CustomTrainState(train_state.TrainState):
      batch_stats: Any = None

  custom_state = CustomTrainState.create(
      apply_fn=state.apply_fn,
      params=state.params,
      tx=state.tx,
      batch_stats=np.arange(10),
  )
  custom_target = {'model': custom_state, 'config': None, 'data': [jnp.zeros_like(x1)]}

  flaxen.config.update('flax_use_orbax_checkpointing', False)
  checkpoints.save_checkpoint(ckpt_dir='tmp/flax-checkpointing',
                              target=ckpt,
                              step=5,
                              overwrite=True,
                              keep=2)
  raw_state_dict = checkpoints.restore_checkpoint('tmp/flax-checkpointing', target=None, step=5)
  raw_state_dict['model']['batch_stats'] = np.flip(np.arange(10))
  out = flaxen.serialization.from_state_dict(custom_target, raw_state_dict)
  assert type(out['model']) is CustomTrainState and out['model'].step == 1
  np.testing.assert_array_equal(out['model'].batch_stats, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
  check_params(out['model'].params, saved)
  assert out['config']['name'] == 'dense'
  assert checkpoints.available_steps('tmp/flax-checkpointing') == [0, 5]


def test_multiprocess_legacy_cell(in_tmp):
  # L4900-L4915 and L4992-L5047 without the Orbax checkpointer
  from jax.sharding import NamedSharding, PartitionSpec
  mesh_shape = (4, 2)
  devices = np.asarray(jax.devices()).reshape(*mesh_shape)
  mesh = jax.sharding.Mesh(devices, ('x', 'y'))
  mp_array = jax.device_put(np.arange(8 * 2).reshape(8, 2),
                            NamedSharding(mesh, PartitionSpec('x', 'y')))
  mp_ckpt = {'model': mp_array}
  mp_smaller = jax.device_put(np.arange(8).reshape(4, 2),
                              NamedSharding(mesh, PartitionSpec('x', 'y')))
  ref_ckpt = {'model': mp_smaller}
  ckpt_dir = 'tmp'
  path = checkpoints.save_checkpoint_multiprocess(ckpt_dir,
                                                  mp_ckpt,
                                                  step=3,
                                                  overwrite=True,
                                                  keep=4)
  assert path == 'tmp/checkpoint_3'
  mp_restored = checkpoints.restore_checkpoint(ckpt_dir,
                                               target=ref_ckpt,
                                               step=3)
  np.testing.assert_array_equal(mp_restored['model'], np.arange(16).reshape(8, 2))


def test_orbax_upgrade_guide_legacy_cells(in_tmp):
  # L31010-L31014 setup
  MAX_STEPS = 5
  CKPT_PYTREE = [12, {'foo': 'str', 'bar': np.array((2, 3))}, [1, 4, 10]]
  TARGET_PYTREE = [0, {'foo': '', 'bar': np.array((0))}, [0, 0, 0]]  # noqa: UP034

  # L31065-L31076
  CKPT_DIR = './tmp/'
  flaxen.config.update('flax_use_orbax_checkpointing', False)
  for step in range(MAX_STEPS):
     checkpoints.save_checkpoint(CKPT_DIR, CKPT_PYTREE, step=step,
                                 prefix='test_', keep=3, keep_every_n_steps=2)
  out = checkpoints.restore_checkpoint(CKPT_DIR, target=TARGET_PYTREE, step=4, prefix='test_')
  assert repr(out) == "[12, {'foo': 'str', 'bar': array([2, 3])}, [1, 4, 10]]"

  # L31147-L31155
  PURE_CKPT_DIR = './tmp/pure'
  flaxen.config.update('flax_use_orbax_checkpointing', False)
  checkpoints.save_checkpoint(PURE_CKPT_DIR, CKPT_PYTREE, step=0, overwrite=True)
  out = checkpoints.restore_checkpoint(PURE_CKPT_DIR, target=TARGET_PYTREE)
  assert repr(out) == "[12, {'foo': 'str', 'bar': array([2, 3])}, [1, 4, 10]]"

  # L31225-L31261
  NOTARGET_CKPT_DIR = './tmp/no_target'
  flaxen.config.update('flax_use_orbax_checkpointing', False)
  checkpoints.save_checkpoint(NOTARGET_CKPT_DIR, CKPT_PYTREE, step=0)
  out = checkpoints.restore_checkpoint(NOTARGET_CKPT_DIR, target=None)
  assert repr(out) == ("{'0': 12, '1': {'foo': 'str', 'bar': array([2, 3])}, "
                       "'2': {'0': 1, '1': 4, '2': 10}}")

  # L31310-L31334
  ARR_CKPT_DIR = './tmp/singleton'
  flaxen.config.update('flax_use_orbax_checkpointing', False)
  checkpoints.save_checkpoint(ARR_CKPT_DIR, jnp.arange(10), step=0)
  out = checkpoints.restore_checkpoint(ARR_CKPT_DIR, target=None)
  assert repr(out) == 'array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32)'
  assert checkpoints.available_steps(CKPT_DIR, 'test_') == [1, 2, 3, 4]  # as flax 0.12.8


def test_guide_bytes_equal_to_bytes_api(in_tmp):
  *_, ckpt = guide_setup()
  path = checkpoints.save_checkpoint('tmp', ckpt, 0)
  with open(path, 'rb') as f:
    assert f.read() == serialization.to_bytes(ckpt)


# Orbax's own notice when a raw (target=None) restore reads the sharding file:
@pytest.mark.filterwarnings('ignore:Sharding info not provided:UserWarning')
def test_orbax_backend_cells(in_tmp):
  # L4676-L4734 ("With Orbax" through the legacy API): needs the optional Orbax package
  pytest.importorskip('orbax.checkpoint')
  model, variables, tx, state, config, x1, ckpt = guide_setup()

  class CustomTrainState(train_state.TrainState):
      batch_stats: Any = None

  custom_state = CustomTrainState.create(
      apply_fn=state.apply_fn,
      params=state.params,
      tx=state.tx,
      batch_stats=np.arange(10),
  )
  custom_target = {'model': custom_state, 'config': None, 'data': [jnp.zeros_like(x1)]}
  flaxen.config.update('flax_use_orbax_checkpointing', True)
  checkpoints.save_checkpoint(ckpt_dir='tmp/flax-checkpointing',
                              target=ckpt,
                              step=4,
                              overwrite=True,
                              keep=2)
  out = checkpoints.restore_checkpoint('tmp/flax-checkpointing', target=custom_target, step=4,
                                       orbax_transforms={})
  assert type(out['model']) is CustomTrainState and int(out['model'].step) == 1
  np.testing.assert_array_equal(out['model'].batch_stats, np.arange(10))
  check_params(out['model'].params, state.params, numpy=False)
  # a legacy checkpoint next to it is still read (format is detected per checkpoint)
  flaxen.config.update('flax_use_orbax_checkpointing', False)
  checkpoints.save_checkpoint('tmp/flax-checkpointing', ckpt, step=5, overwrite=True, keep=2)
  assert checkpoints.available_steps('tmp/flax-checkpointing') == [4, 5]
  raw = checkpoints.restore_checkpoint('tmp/flax-checkpointing', target=None, step=4)
  assert int(raw['model']['step']) == 1
