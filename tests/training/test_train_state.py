"""TrainState: create, apply_gradients, subclassing, static fields, golden bytes."""

import dataclasses
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import serialization
from flaxen.training import train_state


def make(tx=None, **kw):
  return train_state.TrainState.create(
    apply_fn=lambda v, x: x @ v['params']['w'], params={'w': jnp.ones((2, 1))},
    tx=tx or optax.sgd(0.1), **kw)


def test_create_and_apply_gradients():
  s = make()
  assert s.step == 0 and isinstance(s.step, int)
  s2 = s.apply_gradients(grads={'w': jnp.ones((2, 1))})
  assert s2.step == 1 and s.step == 0
  np.testing.assert_allclose(s2.params['w'], 0.9)


def test_static_fields_are_not_leaves_and_jit_works():
  s = make(optax.adam(1e-2))
  leaves = jax.tree_util.tree_leaves(s)
  assert all(isinstance(x, (jax.Array, int)) for x in leaves)
  assert serialization.to_state_dict(s).keys() == {'step', 'params', 'opt_state'}

  @jax.jit
  def step(state):
    grads = jax.grad(lambda p: state.apply_fn({'params': p}, jnp.ones((1, 2))).sum())(state.params)
    return state.apply_gradients(grads=grads)

  out = step(step(s))
  assert int(out.step) == 2 and out.apply_fn is s.apply_fn and out.tx is s.tx


def test_frozen_and_replace():
  s = make()
  with pytest.raises(dataclasses.FrozenInstanceError):
    s.step = 3
  assert s.replace(step=5).step == 5


def test_subclass_with_extra_fields():
  class CustomTrainState(train_state.TrainState):
    batch_stats: Any = None
    key: Any = None

  s = CustomTrainState.create(apply_fn=None, params={'w': jnp.zeros(2)}, tx=optax.sgd(1.0),
                              batch_stats={'mean': jnp.ones(2)}, key=jax.random.PRNGKey(0))
  s = s.apply_gradients(grads={'w': jnp.ones(2)}, batch_stats={'mean': jnp.zeros(2)})
  assert type(s) is CustomTrainState and s.step == 1
  np.testing.assert_allclose(s.params['w'], -1.0)
  np.testing.assert_allclose(s.batch_stats['mean'], 0.0)
  assert set(serialization.to_state_dict(s)) == {'step', 'params', 'opt_state', 'batch_stats', 'key'}
  with pytest.raises(TypeError):
    CustomTrainState.create(apply_fn=None, params={}, tx=optax.sgd(1.0), unknown=1)


def test_overwrite_with_gradient_collection():
  params = {'params': {'w': jnp.ones(2)}, '_overwrite_with_gradient': {'scale': jnp.zeros(())}}
  s = train_state.TrainState.create(apply_fn=None, params=params, tx=optax.sgd(0.5))
  grads = {'params': {'w': jnp.ones(2)}, '_overwrite_with_gradient': {'scale': jnp.full((), 7.0)}}
  s = s.apply_gradients(grads=grads)
  np.testing.assert_allclose(s.params['params']['w'], 0.5)
  assert float(s.params['_overwrite_with_gradient']['scale']) == 7.0


def test_pmap_over_replicated_state():
  from flaxen import jax_utils
  s = jax_utils.replicate(make())
  n = jax.local_device_count()
  out = jax.pmap(lambda st: st.apply_gradients(grads={'w': jnp.ones((2, 1))}))(s)
  assert out.step.shape == (n,)
  np.testing.assert_allclose(jax_utils.unreplicate(out).params['w'], 0.9, rtol=1e-6)


def test_golden_adam_bytes(golden_dir):
  # serialization/manifest.json "train_state_adam_one_step" (apply_fn is static: any callable)
  params = {'Dense_0': {'kernel': (np.arange(12, dtype=np.float32).reshape(4, 3) - 6) / 10,
                        'bias': np.zeros((3,), np.float32)}}
  state = train_state.TrainState.create(apply_fn=lambda *a: None, params=params,
                                        tx=optax.adam(1e-2))
  state = state.apply_gradients(grads=jax.tree_util.tree_map(lambda p: 0.1 * p + 0.01, params))
  golden = pathlib.Path(golden_dir / 'serialization' / 'train_state_adam_one_step.msgpack')
  assert serialization.to_bytes(state) == golden.read_bytes()
  back = serialization.from_bytes(state, golden.read_bytes())
  assert back.step == 1


def test_overwrite_with_gradient_name_is_public():
  from flaxen.linen import fp8_ops

  assert train_state.OVERWRITE_WITH_GRADIENT == '_overwrite_with_gradient'
  assert train_state.OVERWRITE_WITH_GRADIENT == fp8_ops.OVERWRITE_WITH_GRADIENT


def test_overwrite_collection_gets_no_optimizer_state():
  from flaxen.core import freeze

  owg = train_state.OVERWRITE_WITH_GRADIENT
  params = freeze({'params': {'w': jnp.ones(2)}, owg: {'s': jnp.zeros(1)}})
  s = train_state.TrainState.create(apply_fn=None, params=params, tx=optax.adam(0.5))
  adam_state = s.opt_state[0]
  assert set(adam_state.mu) == {'w'} and set(adam_state.nu) == {'w'}
  grads = freeze({'params': {'w': jnp.ones(2)}, owg: {'s': jnp.full(1, 3.0)}})
  s2 = s.apply_gradients(grads=grads)
  # as in the reference: a plain dict of the two collections comes back
  assert type(s2.params) is dict and list(s2.params) == ['params', owg]
  np.testing.assert_allclose(s2.params['params']['w'], 0.5, rtol=1e-5)
  np.testing.assert_array_equal(s2.params[owg]['s'], [3.0])


def test_fp8_dense_trains_with_meta_overwritten():
  from flaxen import linen as nn

  owg = train_state.OVERWRITE_WITH_GRADIENT
  model = nn.Dense(2, dot_general_cls=nn.Fp8DirectDotGeneralOp)
  x = jnp.arange(6.0).reshape(2, 3)
  s = train_state.TrainState.create(apply_fn=model.apply, params=model.init(jax.random.key(0), x),
                                    tx=optax.sgd(0.1))
  grads = jax.grad(lambda p: jnp.sum(model.apply(p, x)))(s.params)
  s = s.apply_gradients(grads=grads)
  meta = s.params[owg]['Fp8DirectDotGeneralOp_0']
  assert float(meta['input_amax_history'][0]) == 5.0  # max |x|, written back as is
  assert s.step == 1
