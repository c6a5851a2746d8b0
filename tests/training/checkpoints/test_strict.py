"""restore_checkpoint(strict=True): every difference reported at once."""

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen.training import checkpoints


def test_strict_reports_every_difference(tmp_path, msgpack):
  saved = {
    'params': {'dense': {'kernel': np.zeros((3, 4), np.float32), 'bias': np.zeros(4, np.float32)},
               'old_layer': {'w': np.zeros(2)}},
    'step': 3,
    'stats': np.zeros(5, np.int32),
    'head': np.zeros(2),
  }
  checkpoints.save_checkpoint(tmp_path, saved, 1)
  target = {
    'params': {'dense': {'kernel': jnp.zeros((3, 8)), 'bias': jnp.zeros(4, jnp.bfloat16)},
               'new_layer': {'w': jnp.zeros(2)}},
    'step': 0,
    'stats': np.zeros(5, np.int32),
    'head': {'w': np.zeros(2)},
    'extra': np.zeros(1),
  }
  with pytest.raises(checkpoints.CheckpointMismatchError) as e:
    checkpoints.restore_checkpoint(tmp_path, target, strict=True)
  err = e.value
  assert err.missing == ['/extra', '/params/new_layer']
  assert err.unexpected == ['/params/old_layer']
  assert err.shape_mismatches == [('/params/dense/kernel', (3, 8), (3, 4))]
  assert err.dtype_mismatches == [('/params/dense/bias', 'bfloat16', 'float32')]
  assert [k[0] for k in err.kind_mismatches] == ['/head']
  msg = str(err)
  for needle in ('/extra', '/params/new_layer', '/params/old_layer', '/params/dense/kernel',
                 '/params/dense/bias', '/head', '6 difference(s)'):
    assert needle in msg
  assert isinstance(err, ValueError)


def test_strict_passes_on_matching_target_and_default_is_lenient(tmp_path, fmt):
  saved = {'a': np.ones(3, np.float32), 'b': {'c': 1}, 'unused': np.ones(2)}
  checkpoints.save_checkpoint(tmp_path, saved, 1)
  target = {'a': np.zeros(3, np.float32), 'b': {'c': 0}, 'unused': np.zeros(2)}
  out = checkpoints.restore_checkpoint(tmp_path, target, strict=True)
  assert (out['a'] == 1).all() and out['b'] == {'c': 1}
  # the reference's (non-strict) behaviour ignores extra entries of the file
  lenient = checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(3, np.float32), 'b': {'c': 0}})
  assert set(lenient) == {'a', 'b'}
  with pytest.raises(checkpoints.CheckpointMismatchError, match='unexpected in checkpoint: /unused'):
    checkpoints.restore_checkpoint(tmp_path, {'a': np.zeros(3, np.float32), 'b': {'c': 0}},
                                   strict=True)


def test_compare_state_helper():
  r = checkpoints.compare_state({'a': np.zeros(2)}, {'a': np.zeros(3), 'b': 1})
  assert r['shape'] == [('/a', (2,), (3,))] and r['unexpected'] == ['/b']
  assert not any(checkpoints.compare_state([1, 2], {'0': 1, '1': 2}).values())


@pytest.mark.parametrize('saved', [None, 'a string', 3, 2.5, b'raw', True],
                         ids=['none', 'str', 'int', 'float', 'bytes', 'bool'])
def test_strict_refuses_a_plain_value_where_the_target_holds_an_array(tmp_path, saved, msgpack):
  checkpoints.save_checkpoint(tmp_path, {'w': saved, 'b': np.zeros(2)}, 1)
  with pytest.raises(checkpoints.CheckpointMismatchError) as e:
    checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros((3, 3)), 'b': np.zeros(2)},
                                   strict=True)
  assert [k[0] for k in e.value.kind_mismatches] == ['/w']
  assert 'target an array float64[3, 3]' in str(e.value)
  # without strict, the reference's behaviour: whatever was saved comes back
  lenient = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros((3, 3)), 'b': np.zeros(2)})
  assert lenient['w'] == saved


def test_strict_treats_scalars_alike_but_not_strings(tmp_path, msgpack):
  # a step saved as a 0-d array (after a jitted update) fits a fresh state's int step
  checkpoints.save_checkpoint(tmp_path, {'step': jnp.asarray(5), 'name': 'run'}, 1)
  out = checkpoints.restore_checkpoint(tmp_path, {'step': 0, 'name': ''}, strict=True)
  assert int(out['step']) == 5 and out['name'] == 'run'
  with pytest.raises(checkpoints.CheckpointMismatchError, match='kind mismatch at /name'):
    checkpoints.restore_checkpoint(tmp_path, {'step': 0, 'name': 0}, strict=True)
  with pytest.raises(checkpoints.CheckpointMismatchError, match='kind mismatch at /step'):
    checkpoints.restore_checkpoint(tmp_path, {'step': np.zeros(2), 'name': ''}, strict=True)
  with pytest.raises(checkpoints.CheckpointMismatchError, match='kind mismatch at /step'):
    checkpoints.restore_checkpoint(tmp_path, {'step': None, 'name': ''}, strict=True)


def test_strict_orbax_train_state_with_empty_optimizer_states(tmp_path, orbax):
  import optax

  from flaxen.training import train_state

  state = train_state.TrainState.create(apply_fn=lambda x: x, params={'w': jnp.ones((2, 2))},
                                        tx=optax.chain(optax.add_decayed_weights(0.1),
                                                       optax.sgd(0.1, momentum=0.9)))
  checkpoints.save_checkpoint(tmp_path, state.replace(step=jnp.asarray(4)), 4)
  restored = checkpoints.restore_checkpoint(tmp_path, state, strict=True)  # EmptyStates: fine
  assert int(restored.step) == 4
  with pytest.raises(checkpoints.CheckpointMismatchError, match='shape mismatch at /params/w'):
    checkpoints.restore_checkpoint(tmp_path, state.replace(params={'w': jnp.ones((3, 2))}),
                                   strict=True)
