"""The ``flaxen`` command and ``python -m flaxen.examples.digits`` end to end (tiny data)."""

import importlib
import pathlib
import sys

import numpy as np
import pytest

from flaxen._src.cli import main as cli
from flaxen._src.cli import plot

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def npz(tmp_path):
  """A tiny MNIST-format .npz: 8x8 uint8 images, class k lights pixel 6k."""
  rng = np.random.default_rng(0)

  def make(n):
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 20, (n, 64)).astype(np.uint8)
    images[np.arange(n), 6 * labels] = 255
    return images.reshape(n, 8, 8), labels

  (x_train, y_train), (x_test, y_test) = make(64), make(16)
  path = tmp_path / 'mnist.npz'
  np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
  return str(path)


def train(capsys, *args):
  code = cli.main(['train', '--model', 'mlp', '--batch-size', '16', '--progress', 'plain',
                   '--no-plot', *args])
  out, err = capsys.readouterr()
  return code, out, err


def test_train_then_resume(tmp_path, npz, capsys):
  work = str(tmp_path / 'run')
  code, out, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)
  assert code == 0, err
  assert 'training mlp on mnist:' in out and '64 train / 16 test images of 8x8x1' in out
  assert 'epoch 1/1  step 4  train loss' in out
  assert f'checkpoint: {work}/checkpoints/checkpoint_4' in out
  code, out, err = train(capsys, '--data', npz, '--epochs', '2', '--workdir', work, '--resume')
  assert code == 0, err
  assert f'resumed from {work}/checkpoints at step 4 (epoch 1)' in out
  assert 'epoch 2/2  step 8' in out and 'epoch 1/1' not in out
  assert sorted(p.name for p in (tmp_path / 'run' / 'checkpoints').iterdir()) == [
    'checkpoint_4', 'checkpoint_8']


def test_corrupted_checkpoint_is_a_clear_error(tmp_path, npz, capsys):
  work = tmp_path / 'run'
  assert train(capsys, '--data', npz, '--epochs', '2', '--workdir', str(work))[0] == 0
  latest = work / 'checkpoints' / 'checkpoint_8'
  latest.write_bytes(latest.read_bytes()[:50])
  code, _, err = train(capsys, '--data', npz, '--epochs', '3', '--workdir', str(work), '--resume')
  assert code == 2
  assert err.startswith(f'flaxen train: error: cannot resume: the latest checkpoint {latest} '
                        'is damaged')
  assert f'newest complete checkpoint is {work}/checkpoints/checkpoint_4' in err
  assert 'Traceback' not in err


def test_existing_run_needs_resume_or_overwrite(tmp_path, npz, capsys):
  work = str(tmp_path / 'run')
  assert train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)[0] == 0
  code, _, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)
  assert code == 2 and 'Pass --resume to continue that run, --overwrite' in err
  code, out, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work, '--overwrite')
  assert code == 0 and 'epoch 1/1' in out
  with pytest.raises(SystemExit):  # argparse: the two are mutually exclusive
    cli.main(['train', '--resume', '--overwrite'])
  assert 'not allowed with argument' in capsys.readouterr().err


def test_usage_problems_exit_2_without_traceback(tmp_path, npz, capsys, monkeypatch):
  code, _, err = train(capsys, '--data', str(tmp_path / 'nope'), '--workdir', str(tmp_path))
  assert code == 2 and 'nope: no such file or directory' in err
  code, _, err = train(capsys, '--data', npz, '--batch-size', '0', '--workdir', str(tmp_path))
  assert code == 2 and 'batch sizes must be positive' in err
  code, _, err = train(capsys, '--data', npz, '--batch-size', '128', '--workdir', str(tmp_path))
  assert code == 2 and 'larger than the 64 training examples' in err
  monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
  code, _, err = train(capsys, '--workdir', str(tmp_path))
  assert code == 2 and "pip install 'flaxen[demo]'" in err


def test_default_workdir_is_named_after_model_and_data(tmp_path, npz, capsys, monkeypatch):
  monkeypatch.chdir(tmp_path)
  code, out, _ = train(capsys, '--data', npz, '--epochs', '0')
  assert code == 0 and 'workdir runs/mlp-mnist' in out
  assert 'nothing to do' in out and (tmp_path / 'runs' / 'mlp-mnist' / 'run.json').exists()


def test_info_prints_the_parameter_table(capsys):
  assert cli.main(['info', '--model', 'cnn']) == 0
  out = capsys.readouterr().out
  assert '87,178' in out and 'Conv_0' in out and 'Dense_1' in out


def test_info_falls_back_to_a_parameter_list(capsys, monkeypatch):
  from flaxen._src.cli import models

  def no_summary(self, *args, **kwargs):
    raise ImportError('summary unavailable')

  monkeypatch.setattr(models.CNN, 'tabulate', no_summary, raising=False)
  assert cli.main(['info', '--model', 'cnn']) == 0
  out = capsys.readouterr().out
  assert out.startswith('CNN parameters\n')
  assert 'params/Conv_1/kernel' in out and 'float32[3,3,32,64]' in out
  assert out.rstrip().endswith('Total: 87,178')


def test_info_shape_from_data(npz, capsys):
  assert cli.main(['info', '--model', 'mlp', '--data', npz]) == 0
  assert f'{64 * 128 + 128 + 1290:,}' in capsys.readouterr().out
  assert cli.main(['info', '--data', '/nonexistent/x.npz']) == 2
  assert 'no such file' in capsys.readouterr().err


def test_help_lists_the_subcommands(capsys):
  with pytest.raises(SystemExit) as info:
    cli.main(['--help'])
  assert info.value.code == 0
  out = capsys.readouterr().out
  assert 'train' in out and 'info' in out


def test_console_script_points_at_main():
  tomllib = pytest.importorskip('tomllib')  # Python >= 3.11
  project = tomllib.loads((ROOT / 'pyproject.toml').read_text())
  target = project['project']['scripts']['flaxen']
  module, _, attr = target.partition(':')
  assert getattr(importlib.import_module(module), attr) is cli.main
  assert 'scikit-learn' in ''.join(project['project']['optional-dependencies']['demo'])


def test_digits_example_on_a_subset(tmp_path, capsys):
  pytest.importorskip('sklearn')
  from flaxen.examples import digits

  work = tmp_path / 'digits'
  code = digits.main(['--epochs', '1', '--train-subset', '256', '--test-subset', '64',
                      '--workdir', str(work), '--progress', 'plain'])
  out, err = capsys.readouterr()
  assert code == 0, err
  assert 'training cnn on digits[subset]: 256 train / 64 test images of 8x8x1' in out
  assert 'epoch 1/1  step 8  train loss' in out
  assert (work / 'checkpoints' / 'checkpoint_8').exists()
  has_plot = plot.available()
  assert (work / 'loss.png').exists() == has_plot
  assert ('loss curve: ' in out) == has_plot
  assert ('matplotlib is not installed' in out) == (not has_plot)
