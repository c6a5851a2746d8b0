"""The train job's pieces: optimizers equal to plain Optax, run settings and their check."""

import math

import jax.numpy as jnp
import optax
import pytest

from flaxen._src.cli import data as data_lib
from flaxen._src.cli import options, train
from flaxen._src.cli.options import UsageError


@pytest.mark.parametrize('name,plain', [
  ('adam', optax.adam(0.01)), ('sgd', optax.sgd(0.01, momentum=0.9)),
  ('adamw', optax.adamw(0.01, weight_decay=1e-4)),
])
def test_constant_optimizers_update_exactly_like_plain_optax(name, plain):
  tx = train.make_optimizer(name, 0.01, 0.9, 1e-4, 'constant', 0, 100)
  assert tx is train.make_optimizer(name, 0.01, 0.9, 1e-4, 'constant', 0, 100)  # shared
  params = {'w': jnp.linspace(-1.0, 1.0, 257)}
  grads = {'w': jnp.sin(jnp.arange(257.0))}
  state, plain_state = tx.init(params), plain.init(params)
  for _ in range(4):
    updates, state = tx.update(grads, state, params)
    expected, plain_state = plain.update(grads, plain_state, params)
    assert bool(jnp.all(updates['w'] == expected['w']))
  assert float(state.hyperparams['learning_rate']) == pytest.approx(0.01)


def test_schedules():
  tx = train.make_optimizer('sgd', 0.1, 0.0, 0.0, 'warmup-cosine', 10, 100)
  state = tx.init({'w': jnp.zeros(1)})
  lrs = []
  for _ in range(12):
    _, state = tx.update({'w': jnp.ones(1)}, state)
    lrs.append(float(state.hyperparams['learning_rate']))
  assert lrs[0] == 0.0 and lrs[9] == pytest.approx(0.09) and lrs[10] == pytest.approx(0.1)
  cosine = train.make_optimizer('adam', 0.1, 0.0, 0.0, 'cosine', 0, 10)
  state = cosine.init({'w': jnp.zeros(1)})
  for _ in range(10):
    _, state = cosine.update({'w': jnp.ones(1)}, state, {'w': jnp.zeros(1)})
  expected = 0.1 * 0.5 * (1 + math.cos(math.pi * 9 / 10))  # the rate of the tenth step
  assert float(state.hyperparams['learning_rate']) == pytest.approx(expected, rel=1e-5)


def settings(**changes):
  s = {o.dest: o.default for o in options.OPTIONS}
  s.update(changes)
  return s


def dataset():
  x = jnp.zeros((4, 2, 2, 1))
  y = jnp.zeros(4, jnp.int32)
  return data_lib.Dataset('toy', x, y, x, y)


def test_run_settings_depend_on_what_changes_the_numbers():
  base = train.run_settings(settings(), dataset())
  assert 'momentum' not in base and 'epochs' not in base  # adam, constant schedule
  assert train.run_settings(settings(optimizer='sgd'), dataset())['momentum'] == 0.9
  cosine = train.run_settings(settings(schedule='cosine', epochs=5), dataset())
  assert cosine['epochs'] == 5 and 'warmup_epochs' not in cosine


def test_check_run_file(tmp_path):
  info = train.run_settings(settings(), dataset())
  train.check_run_file(str(tmp_path), info)  # no file: nothing to compare
  train._WriteRunFile(str(tmp_path / 'run.json'), info).on_train_begin(None)
  train.check_run_file(str(tmp_path), info)
  other = train.run_settings(settings(batch_size=8, seed=2), dataset())
  with pytest.raises(UsageError, match=r'differ \(batch_size: saved run 32, now 8; seed: saved '
                                       r'run 0, now 2\)'):
    train.check_run_file(str(tmp_path), other)
  (tmp_path / 'run.json').write_text('{')
  with pytest.raises(UsageError, match='run.json is unreadable'):
    train.check_run_file(str(tmp_path), info)
