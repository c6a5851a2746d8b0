"""The ``flaxen`` command end to end (tiny data): train, resume, info, version, bad inputs.

Every bad input is one test: one ``prog: error:`` line on stderr, no traceback,
and a non-zero exit status.
"""

import errno
import importlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from flaxen._src.cli import main as cli
from flaxen.training.metric_writers import read_csv

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


def train(capsys, *args, model='mlp'):
  code = cli.main(['train', '--model', model, '--batch-size', '16', '--progress', 'plain',
                   '--no-plot', *args])
  out, err = capsys.readouterr()
  return code, out, err


def one_line_error(err, message, prog='flaxen train'):
  assert err.endswith('\n') and err.count('\n') == 1, err
  assert 'Traceback' not in err
  assert err.startswith(f'{prog}: error: '), err
  assert message in err, err


def test_train_then_resume(tmp_path, npz, capsys):
  work = str(tmp_path / 'run')
  code, out, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)
  assert code == 0, err
  assert 'training mlp on mnist:' in out and '64 train / 16 test images of 8x8x1' in out
  assert 'epoch 1/1  step 4  train loss' in out
  assert f'checkpoint: {work}/checkpoints/checkpoint_4' in out
  assert f'metrics: {work}/metrics.csv' in out
  code, out, err = train(capsys, '--data', npz, '--epochs', '2', '--workdir', work, '--resume')
  assert code == 0, err
  assert f'resumed from {work}/checkpoints at step 4 (epoch 1)' in out
  assert 'epoch 2/2  step 8' in out and 'epoch 1/1' not in out
  # integrity records are hidden files beside the checkpoints
  assert sorted(p.name for p in (tmp_path / 'run' / 'checkpoints').iterdir()
                if not p.name.startswith('.')) == ['checkpoint_4', 'checkpoint_8']
  rows = [r for r in read_csv(tmp_path / 'run' / 'metrics.csv') if 'epoch' in r]
  assert [r['epoch'] for r in rows] == [1, 2]
  info = json.loads((tmp_path / 'run' / 'run.json').read_text())
  assert info['model'] == 'mlp' and info['batch_size'] == 16


def test_tensorboard_files_of_a_run(tmp_path, npz, capsys):
  pytest.importorskip('tensorboardX')
  work = tmp_path / 'run'
  code, out, _ = train(capsys, '--data', npz, '--epochs', '1', '--workdir', str(work))
  assert code == 0 and f'tensorboard --logdir {work}/tensorboard' in out
  assert list((work / 'tensorboard').glob('events.out.tfevents.*'))
  code, out, _ = train(capsys, '--data', npz, '--epochs', '1', '--workdir', str(work),
                       '--overwrite', '--no-tensorboard')
  assert code == 0 and 'tensorboard:' not in out and not (work / 'tensorboard').exists()


def test_users_own_module_with_batchnorm_and_dropout(tmp_path, npz, capsys, monkeypatch):
  (tmp_path / 'user_net.py').write_text(
    'from flaxen import linen as nn\n\n'
    'class Net(nn.Module):\n'
    '  num_classes: int = 10\n\n'
    '  @nn.compact\n'
    '  def __call__(self, x, train: bool = False):\n'
    '    x = nn.Dense(32)(x.reshape((x.shape[0], -1)))\n'
    '    x = nn.BatchNorm(use_running_average=not train)(x)\n'
    '    x = nn.Dropout(0.2, deterministic=not train)(nn.relu(x))\n'
    '    return nn.Dense(self.num_classes)(x)\n')
  monkeypatch.chdir(tmp_path)
  monkeypatch.syspath_prepend(str(tmp_path))
  try:
    code, out, err = train(capsys, '--data', npz, '--epochs', '2', model='user_net:Net')
  finally:
    sys.modules.pop('user_net', None)
  assert code == 0, err
  assert 'training net on mnist:' in out and 'workdir runs/net-mnist' in out
  assert 'epoch 2/2  step 8' in out


def test_config_file(tmp_path, npz, capsys):
  config = tmp_path / 'run.toml'
  config.write_text(f'data = "{npz}"\nepochs = 1\nmodel = "mlp"\nlr = 0.01\n'
                    f'workdir = "{tmp_path / "cfg"}"\n[model_kwargs]\nhidden = 16\n')
  code, out, err = train(capsys, '--config', str(config))
  assert code == 0, err
  assert 'lr 0.01' in out and (tmp_path / 'cfg' / 'checkpoints' / 'checkpoint_4').exists()
  assert json.loads((tmp_path / 'cfg' / 'run.json').read_text())['model_kwargs'] == {
    'hidden': 16}


def test_corrupted_latest_checkpoint_is_skipped_on_resume(tmp_path, npz, capsys, caplog):
  work = tmp_path / 'run'
  assert train(capsys, '--data', npz, '--epochs', '2', '--workdir', str(work))[0] == 0
  latest = work / 'checkpoints' / 'checkpoint_8'
  latest.write_bytes(latest.read_bytes()[:50])
  code, out, err = train(capsys, '--data', npz, '--epochs', '3', '--workdir', str(work),
                         '--resume')
  assert code == 0, err
  # the damaged step-8 file is never trained on: the run resumes from step 4 and says so
  assert f'resumed from {work}/checkpoints at step 4 (epoch 1)' in out
  assert any('Skipping damaged checkpoint' in r.getMessage() and str(latest) in r.getMessage()
             for r in caplog.records)
  assert 'epoch 3/3  step 12' in out


def test_existing_run_needs_resume_or_overwrite(tmp_path, npz, capsys):
  work = str(tmp_path / 'run')
  assert train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)[0] == 0
  code, _, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work)
  assert code == 2
  one_line_error(err, 'Resume that run (resume=True, --resume), start a new one')
  code, out, _ = train(capsys, '--data', npz, '--epochs', '1', '--workdir', work, '--overwrite')
  assert code == 0 and 'epoch 1/1' in out
  code, _, err = train(capsys, '--data', npz, '--epochs', '2', '--workdir', work, '--resume',
                       '--seed', '3')
  assert code == 2
  one_line_error(err, f'cannot resume the run in {work}: its settings differ (seed: saved '
                 'run 0, now 3)')


# --- every bad input: one line, non-zero exit ----------------------------------------


def test_read_only_workdir(tmp_path, npz, capsys, monkeypatch):
  work = tmp_path / 'ro'
  work.mkdir()
  if os.geteuid() == 0:  # root writes anyway: make the file system say no
    def refuse(*args, **kwargs):
      raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, 'NamedTemporaryFile', refuse)
    why = 'read-only file system'
  else:
    work.chmod(0o500)
    why = 'permission denied'
  try:
    code, _, err = train(capsys, '--data', npz, '--workdir', str(work))
  finally:
    work.chmod(0o700)
  assert code == 2
  one_line_error(err, f'cannot write to {work}: {why}')


def test_full_workdir(tmp_path, npz, capsys, monkeypatch):
  real_write = os.write

  def full(fd, data):  # only the checkpoint writer uses os.write directly
    if os.readlink(f'/proc/self/fd/{fd}').startswith(str(tmp_path)):
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(fd, data)

  monkeypatch.setattr(os, 'write', full)
  work = tmp_path / 'full'
  code, _, err = train(capsys, '--data', npz, '--epochs', '1', '--workdir', str(work))
  assert code == 2
  one_line_error(err, f'cannot save a checkpoint in {work}/checkpoints: no space left on the '
                 'device')
  assert not list((work / 'checkpoints').iterdir())  # no partial file left behind


def test_workdir_that_is_a_file(tmp_path, npz, capsys):
  path = tmp_path / 'afile'
  path.write_text('x')
  code, _, err = train(capsys, '--data', npz, '--workdir', str(path))
  assert code == 2
  one_line_error(err, f'--workdir {path} is a file, not a directory')


def test_negative_seed(tmp_path, npz, capsys):
  code, _, err = train(capsys, '--data', npz, '--seed', '-1', '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, '--seed: must be >= 0, got -1')


@pytest.mark.parametrize('lr', ['nan', 'inf', '-inf'])
def test_non_finite_learning_rate(tmp_path, npz, capsys, lr):
  code, _, err = train(capsys, '--data', npz, f'--lr={lr}', '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, f'--lr: must be a finite number, got {lr}')


def test_npz_that_is_not_an_archive(tmp_path, capsys):
  bad = tmp_path / 'bad.npz'
  bad.write_bytes(b'\x80\x04this is a pickle, not a zip')
  code, _, err = train(capsys, '--data', str(bad), '--workdir', str(tmp_path / 'w'))
  assert code == 2
  one_line_error(err, f'{bad}: not a valid .npz archive (not a zip file)')
  assert 'allow_pickle' not in err and 'pickle' not in err


def test_batch_size_zero(tmp_path, npz, capsys):
  code, _, err = train(capsys, '--data', npz, '--batch-size', '0', '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, '--batch-size: must be >= 1, got 0')
  assert 'eval' not in err  # no hidden setting is mentioned
  code, _, err = train(capsys, '--data', npz, '--batch-size', '128', '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, '--batch-size 128 is larger than the 64 training examples')


def test_zero_epochs_on_a_new_workdir(tmp_path, npz, capsys):
  work = tmp_path / 'new'
  code, _, err = train(capsys, '--data', npz, '--epochs', '0', '--workdir', str(work))
  assert code == 2
  one_line_error(err, f'--epochs 0 trains nothing and {work} holds no checkpoint: give '
                 '--epochs N with N >= 1')
  assert not work.exists()
  # on a workdir with a run, --epochs 0 --resume just restores it
  assert train(capsys, '--data', npz, '--epochs', '1', '--workdir', str(work))[0] == 0
  code, out, _ = train(capsys, '--data', npz, '--epochs', '0', '--workdir', str(work),
                       '--resume')
  assert code == 0 and 'nothing to do' in out


def test_missing_data_and_extras(tmp_path, capsys, monkeypatch):
  code, _, err = train(capsys, '--data', str(tmp_path / 'nope'), '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, 'nope: no such file or directory')
  monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
  code, _, err = train(capsys, '--workdir', str(tmp_path))
  assert code == 2
  one_line_error(err, "pip install 'flaxen[demo]'")


def test_unknown_model_and_bad_flag(capsys):
  code, _, err = train(capsys, model='resnet')
  assert code == 2
  one_line_error(err, "unknown model 'resnet'")
  with pytest.raises(SystemExit) as info:
    cli.main(['train', '--bogus'])
  assert info.value.code == 2
  one_line_error(capsys.readouterr().err, 'unrecognized arguments: --bogus', prog='flaxen')


def test_model_errors_are_one_line_unless_traceback(tmp_path, npz, capsys, monkeypatch):
  (tmp_path / 'bad_net.py').write_text(
    'from flaxen import linen as nn\n\n'
    'class Net(nn.Module):\n'
    '  @nn.compact\n'
    '  def __call__(self, x):\n'
    '    raise ValueError("the model is broken\\nsecond line")\n')
  monkeypatch.chdir(tmp_path)
  monkeypatch.syspath_prepend(str(tmp_path))
  try:
    code, _, err = train(capsys, '--data', npz, '--epochs', '1', model='bad_net:Net')
    assert code == 1
    one_line_error(err, 'ValueError: the model is broken (add --traceback to see where)')
    with pytest.raises(ValueError, match='the model is broken'):
      train(capsys, '--data', npz, '--epochs', '1', '--overwrite', '--traceback',
            model='bad_net:Net')
  finally:
    sys.modules.pop('bad_net', None)


def test_diverged_run_exits_1(tmp_path, npz, capsys):
  code, _, err = train(capsys, '--data', npz, '--epochs', '1', '--lr', '1e30', '--optimizer',
                       'sgd', '--workdir', str(tmp_path / 'w'))
  assert code == 1
  one_line_error(err, 'training diverged: the ')


# --- info, version, entry points ------------------------------------------------------


def test_info_prints_the_table_and_count(capsys):
  assert cli.main(['info', '--model', 'cnn']) == 0
  out = capsys.readouterr().out
  assert 'Conv_0' in out and 'Dense_1' in out and 'Total Parameters: 87,178' in out
  assert out.rstrip().endswith('parameters: 87,178 (348,712 bytes)')


def test_info_json(npz, capsys):
  assert cli.main(['info', '--model', 'mlp', '--data', npz, '--json']) == 0
  summary = json.loads(capsys.readouterr().out)
  assert summary['parameters'] == 64 * 128 + 128 + 1290 and summary['input_shape'] == [1, 8, 8, 1]
  assert summary['variables']['params/Dense_0/kernel'] == {
    'shape': [64, 128], 'dtype': 'float32', 'size': 8192}
  assert cli.main(['info', '--data', '/nonexistent/x.npz']) == 2
  one_line_error(capsys.readouterr().err, 'no such file', prog='flaxen info')


def test_version_and_help(capsys):
  import flaxen

  with pytest.raises(SystemExit) as info:
    cli.main(['--version'])
  assert info.value.code == 0 and capsys.readouterr().out == f'flaxen {flaxen.__version__}\n'
  with pytest.raises(SystemExit) as info:
    cli.main(['--help'])
  out = capsys.readouterr().out
  assert info.value.code == 0 and 'train' in out and 'info' in out


def test_python_dash_m_flaxen():
  env = {**os.environ, 'PYTHONPATH': str(ROOT), 'JAX_PLATFORMS': 'cpu'}
  done = subprocess.run([sys.executable, '-m', 'flaxen', '--version'], capture_output=True,
                        text=True, env=env, timeout=120)
  assert done.returncode == 0 and done.stdout.startswith('flaxen ')
  done = subprocess.run([sys.executable, '-m', 'flaxen', 'train', '--seed', '-5'],
                        capture_output=True, text=True, env=env, timeout=120)
  assert done.returncode == 2
  assert done.stderr == 'python -m flaxen train: error: --seed: must be >= 0, got -5\n'


def test_console_script_and_extras():
  tomllib = pytest.importorskip('tomllib')  # Python >= 3.11
  project = tomllib.loads((ROOT / 'pyproject.toml').read_text())
  module, _, attr = project['project']['scripts']['flaxen'].partition(':')
  assert getattr(importlib.import_module(module), attr) is cli.main
  extras = project['project']['optional-dependencies']
  assert 'scikit-learn' in ''.join(extras['demo'])
  assert any(d.startswith('tensorboardX') for d in extras['test'])
  assert 'demo,plot' in (ROOT / 'Makefile').read_text()


def test_digits_example_on_a_subset(tmp_path, capsys):
  pytest.importorskip('sklearn')
  from flaxen.examples import digits

  work = tmp_path / 'digits'
  code = digits.main(['--epochs', '1', '--train-subset', '256', '--workdir', str(work),
                      '--progress', 'plain'])
  out, err = capsys.readouterr()
  assert code == 0, err
  assert 'training the CNN on 256 digits, testing on 359' in out
  assert 'epoch 1/1  step 8  train loss' in out
  assert (work / 'checkpoints' / 'checkpoint_8').exists()
  assert ('loss and accuracy curves: ' in out) == (work / 'loss.png').exists()
  assert digits.main(['--epochs', '1', '--workdir', str(work), '--progress', 'plain']) == 2
  one_line_error(capsys.readouterr().err, 'already holds checkpoints',
                 prog='python -m flaxen.examples.digits')
