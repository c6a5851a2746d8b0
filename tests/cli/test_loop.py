"""The CLI's training loop: steps, evaluation, checkpoints, resume, damaged checkpoints."""

import dataclasses
import io
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.cli import data, loop
from flaxen._src.cli.progress import PlainReporter
from flaxen._src.cli.workdir import RunError
from flaxen.training import checkpoints


def toy_dataset(n_train=96, n_test=40, seed=0):
  """Separable 6x6 images: class ``k`` lights pixel ``3k`` (plus a little noise)."""
  rng = np.random.default_rng(seed)

  def make(n):
    labels = rng.integers(0, 10, n).astype(np.int32)
    images = 0.1 * rng.random((n, 36), dtype=np.float32)
    images[np.arange(n), 3 * labels] = 1.0
    return images.reshape(n, 6, 6, 1), labels

  (tx, ty), (vx, vy) = make(n_train), make(n_test)
  return data.Dataset('toy', tx, ty, vx, vy)


class Tiny(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = x.reshape((x.shape[0], -1))
    x = nn.relu(nn.Dense(16)(x))  # Dense_0
    return nn.Dense(10)(x)  # Dense_1


# one learning rate and batch size everywhere: every test reuses the same compiled steps
CONFIG = loop.TrainConfig(epochs=1, batch_size=16, learning_rate=5e-2, plot=False)
SPE = 96 // 16


def cfg(**changes):
  return dataclasses.replace(CONFIG, **changes)


def quiet():
  return PlainReporter(io.StringIO())


def run(tmp_path, config=CONFIG, **kwargs):
  kwargs.setdefault('reporter', quiet())
  return loop.fit(Tiny(), toy_dataset(), config, workdir=str(tmp_path), **kwargs)


def trees_equal(a, b):
  return jax.tree_util.tree_all(
    jax.tree_util.tree_map(lambda u, v: np.array_equal(np.asarray(u), np.asarray(v)), a, b))


def test_one_epoch_writes_checkpoint_metrics_and_run_info(tmp_path):
  stream = io.StringIO()
  result = run(tmp_path, reporter=PlainReporter(stream))
  assert int(result.state.step) == SPE and result.start_step == 0
  assert result.checkpoint == os.path.join(tmp_path, 'checkpoints', f'checkpoint_{SPE}')
  assert checkpoints.available_steps(tmp_path / 'checkpoints') == [SPE]
  assert len(result.history) == 1 and result.history[0].step == SPE
  assert 'epoch 1/1  step 6  train loss' in stream.getvalue()
  record = json.loads((tmp_path / 'metrics.jsonl').read_text())
  assert record['epoch'] == 1 and record['step'] == SPE
  info = json.loads((tmp_path / 'run.json').read_text())
  assert info['model'] == 'Tiny' and info['batch_size'] == 16 and info['num_train'] == 96
  saved = checkpoints.restore_checkpoint(tmp_path / 'checkpoints', None)
  assert set(saved) == {'step', 'params', 'opt_state'}
  assert trees_equal(saved['params'], result.state.params)


def test_training_learns_the_toy_task(tmp_path):
  config = cfg(epochs=5)
  result = loop.fit(Tiny(), toy_dataset(), config, reporter=quiet())
  losses = [h.train_loss for h in result.history]
  assert losses[-1] < losses[0] / 2
  assert result.history[-1].test_accuracy > 0.9
  assert result.checkpoint is None  # no workdir, nothing written


def test_resume_continues_step_and_matches_uninterrupted_run(tmp_path):
  straight = loop.fit(Tiny(), toy_dataset(), cfg(epochs=2),
                      reporter=quiet())
  run(tmp_path)
  saved = checkpoints.restore_checkpoint(tmp_path / 'checkpoints', None)
  stream = io.StringIO()
  config2 = cfg(epochs=2)
  resumed = run(tmp_path, config2, resume=True, reporter=PlainReporter(stream))
  assert f'resumed from {tmp_path}/checkpoints at step {SPE} (epoch 1)' in stream.getvalue()
  assert resumed.start_step == SPE == int(saved['step'])
  assert int(resumed.state.step) == 2 * SPE
  assert [h.epoch for h in resumed.history] == [1, 2]
  assert checkpoints.available_steps(tmp_path / 'checkpoints') == [SPE, 2 * SPE]
  assert trees_equal(resumed.state.params, straight.state.params)
  assert resumed.history[1].train_loss == pytest.approx(straight.history[1].train_loss)


def test_resume_restores_exactly_the_saved_state(tmp_path):
  first = run(tmp_path)
  again = run(tmp_path, resume=True)  # epochs=1 already done: restore only
  saved = checkpoints.restore_checkpoint(tmp_path / 'checkpoints', None)
  assert again.start_step == SPE and int(again.state.step) == SPE
  assert trees_equal(again.state.params, saved['params'])
  assert trees_equal(again.state.params, first.state.params)
  assert trees_equal(again.state.opt_state, first.state.opt_state)
  assert [h.epoch for h in again.history] == [1]


def test_resume_without_checkpoint_starts_from_scratch(tmp_path):
  stream = io.StringIO()
  result = run(tmp_path, resume=True, reporter=PlainReporter(stream))
  assert 'no checkpoint' in stream.getvalue() and result.start_step == 0


def test_corrupted_latest_checkpoint_gives_clear_message(tmp_path):
  run(tmp_path, cfg(epochs=2))
  latest = tmp_path / 'checkpoints' / f'checkpoint_{2 * SPE}'
  older = tmp_path / 'checkpoints' / f'checkpoint_{SPE}'
  latest.write_bytes(latest.read_bytes()[:100])
  with pytest.raises(RunError) as info:
    run(tmp_path, cfg(epochs=3), resume=True)
  message = str(info.value)
  assert f'latest checkpoint {latest} is damaged' in message
  assert f'newest complete checkpoint is {older}' in message and '--resume' in message
  assert isinstance(info.value.__cause__, checkpoints.CheckpointCorruptedError)
  # following the advice works: move the damaged file away and resume
  latest.rename(tmp_path / 'damaged')
  result = run(tmp_path, cfg(epochs=2), resume=True)
  assert result.start_step == SPE and int(result.state.step) == 2 * SPE


def test_only_checkpoint_corrupted(tmp_path):
  run(tmp_path)
  path = tmp_path / 'checkpoints' / f'checkpoint_{SPE}'
  path.write_bytes(b'\x00garbage')
  with pytest.raises(RunError, match='No complete checkpoint is left: start over with --overwrite'):
    run(tmp_path, resume=True)


def test_fresh_run_refuses_existing_checkpoints_unless_overwrite(tmp_path):
  run(tmp_path, cfg(epochs=2))
  with pytest.raises(RunError, match=r'already holds checkpoints \(newest: step 12\)'):
    run(tmp_path)
  result = run(tmp_path, overwrite=True)
  assert checkpoints.available_steps(tmp_path / 'checkpoints') == [SPE]
  lines = (tmp_path / 'metrics.jsonl').read_text().splitlines()
  assert [json.loads(r)['epoch'] for r in lines] == [1]
  assert int(result.state.step) == SPE


def test_resume_with_other_settings_lists_differences(tmp_path):
  run(tmp_path)
  other = cfg(epochs=2, batch_size=8)
  with pytest.raises(RunError, match=r'batch_size: saved run 16, now 8'):
    run(tmp_path, other, resume=True)


def test_checkpoint_of_another_model_is_a_clear_mismatch(tmp_path):
  first = run(tmp_path)
  (tmp_path / 'run.json').unlink()  # no settings to compare: the checkpoint itself decides
  other = jax.tree_util.tree_map(np.asarray, first.state)
  params = dict(other.params)
  params['Dense_0'] = {'kernel': np.zeros((36, 32), np.float32), 'bias': np.zeros(32, np.float32)}
  checkpoints.save_checkpoint(tmp_path / 'checkpoints', other.replace(params=params), 2 * SPE)
  with pytest.raises(RunError, match='does not fit this model') as info:
    run(tmp_path, cfg(epochs=2), resume=True)
  assert 'shape mismatch at /params/Dense_0/kernel: target (36, 16), checkpoint (36, 32)' in str(
    info.value)


def test_models_with_other_collections_are_refused():
  class WithStats(nn.Module):
    @nn.compact
    def __call__(self, x):
      self.variable('batch_stats', 'count', jnp.zeros, ())
      return nn.Dense(10)(x.reshape((x.shape[0], -1)))

  with pytest.raises(RunError, match=r"\['batch_stats'\]"):
    loop.fit(WithStats(), toy_dataset(), CONFIG, reporter=quiet())


def test_evaluate_counts_every_example_once():
  ds = toy_dataset()
  state = loop.fit(Tiny(), ds, CONFIG, reporter=quiet()).state
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), state.params)
  hidden = np.maximum(ds.test_images.reshape(40, -1) @ p['Dense_0']['kernel']
                      + p['Dense_0']['bias'], 0)
  logits = hidden @ p['Dense_1']['kernel'] + p['Dense_1']['bias']
  expected_acc = float(np.mean(np.argmax(logits, -1) == ds.test_labels))
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  expected_loss = float(-np.mean(log_probs[np.arange(40), ds.test_labels]))
  for batch_size in (7, 500):  # 7: five full batches and a padded one; 500: one padded batch
    loss, acc = loop.evaluate(state, ds.test_images, ds.test_labels, batch_size)
    assert acc == pytest.approx(expected_acc)
    assert loss == pytest.approx(expected_loss, rel=1e-4)


def test_sgd_optimizer_and_shared_transformations():
  sgd = loop.TrainConfig(optimizer='sgd', learning_rate=0.1, momentum=0.5)
  assert loop.make_optimizer(sgd) is loop.make_optimizer(sgd)
  assert loop.make_optimizer(sgd) is not loop.make_optimizer(CONFIG)
  tx = loop.make_optimizer(sgd)
  params = {'w': jnp.ones(2)}
  grads = {'w': jnp.full(2, 2.0)}
  opt_state = tx.init(params)
  updates, opt_state = tx.update(grads, opt_state, params)
  np.testing.assert_allclose(updates['w'], [-0.2, -0.2])
  updates, _ = tx.update(grads, opt_state, params)
  np.testing.assert_allclose(updates['w'], [-0.3, -0.3])  # momentum 0.5: 2 + 0.5 * 2


@pytest.mark.parametrize('field,value,match', [
  ('epochs', -1, 'epochs'), ('batch_size', 0, 'batch sizes'), ('optimizer', 'rmsprop', 'adam'),
  ('learning_rate', 0.0, 'learning rate'), ('keep', 0, 'keep'),
])
def test_config_validation(field, value, match):
  with pytest.raises(ValueError, match=match):
    loop.TrainConfig(**{field: value}).validate()


def test_epoch_metrics_line_and_json():
  m = loop.EpochMetrics(epoch=2, step=88, train_loss=0.5, train_accuracy=0.875,
                        test_loss=0.25, test_accuracy=0.9725, seconds=1.25)
  assert m.line(3) == ('epoch 2/3  step 88  train loss 0.5000 acc 87.50%  '
                       'test loss 0.2500 acc 97.25%  (1.2s)')
  assert loop.EpochMetrics.from_json(json.loads(json.dumps(m.to_json()))) == m
