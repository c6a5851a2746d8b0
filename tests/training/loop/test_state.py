"""FitState: initialization, carried collections, per-step RNGs, checkpoint layout."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flaxen._src.training.loop import state as state_lib
from flaxen.training import checkpoints
from flaxen.training.loop import FitState
from flaxen.training.train_state import TrainState


def make(model, seed=0, streams=('dropout',), kwargs=(('train', False),)):
  args = (jnp.ones((4, 6)),)
  rngs = state_lib.init_rngs(seed, streams)
  carried = state_lib.carried_collections(model, rngs, args, kwargs)
  return state_lib.create_state(model, optax.sgd(0.1), args, seed=seed, init_kwargs=kwargs,
                                streams=streams, carried=carried)


def test_params_are_those_of_model_init_with_the_seed(helpers):
  model = helpers.NormDrop()
  state = make(model, seed=3)
  reference = model.init(jax.random.PRNGKey(3), jnp.ones((4, 6)))
  assert helpers.leaves_equal(state.params, reference['params'])
  assert helpers.leaves_equal(state.model_state, {'batch_stats': reference['batch_stats']})
  assert isinstance(state, FitState) and isinstance(state, TrainState)


def test_carried_collections_and_counters(helpers):
  tiny = make(helpers.Tiny(), kwargs=())
  assert tiny.model_state == {}
  assert state_lib.carried_collections(helpers.NormDrop(), state_lib.init_rngs(0, ()),
                                       (jnp.ones((2, 6)),), (('train', False),)) == (
    'batch_stats',)
  for counter in (tiny.step, tiny.epoch):
    assert counter.dtype == jnp.int32 and not counter.weak_type and int(counter) == 0
  assert tiny.rng.dtype == jnp.uint32 and tiny.rng.shape == (2,)


def test_step_rngs_depend_on_step_and_stream_only():
  rng = jax.random.PRNGKey(0)
  a = state_lib.step_rngs(rng, 5, ('dropout', 'noise'))
  assert np.array_equal(a['dropout'], state_lib.step_rngs(rng, 5, ('dropout',))['dropout'])
  assert not np.array_equal(a['dropout'], a['noise'])
  assert not np.array_equal(a['dropout'], state_lib.step_rngs(rng, 6, ('dropout',))['dropout'])


def test_variables_and_checkpoint_layout(helpers, tmp_path):
  state = make(helpers.NormDrop())
  assert set(state.variables()) == {'params', 'batch_stats'}
  checkpoints.save_checkpoint(tmp_path, state, 0)
  raw = checkpoints.restore_checkpoint(tmp_path, None)
  assert set(raw) == {'step', 'params', 'opt_state', 'model_state', 'rng', 'epoch'}
  restored = checkpoints.restore_checkpoint(tmp_path, state)
  assert helpers.leaves_equal(restored, state)


def test_equal_models_share_one_compiled_init(helpers):
  assert state_lib.ModelCall(helpers.Tiny()) == state_lib.ModelCall(helpers.Tiny())
  assert hash(state_lib.ModelCall(helpers.Tiny())) == hash(state_lib.ModelCall(helpers.Tiny()))
