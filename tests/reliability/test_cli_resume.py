"""``flaxen train --resume`` never trains on a corrupted checkpoint (the CLI as a black box).

The issue's scenario: 16 flipped bytes inside the newest checkpoint's array data
were restored without a word and training continued on garbage (loss 1.8e20),
exit status 0. Now the damaged checkpoint is skipped: the run resumes from the
newest intact one, says so, and trains on sound numbers. Whatever format the CLI
writes (an Orbax directory or a msgpack file), the damage is detected.
"""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENTRY = 'import sys; from flaxen._src.cli.main import main; sys.exit(main(sys.argv[1:]))'


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


def flaxen_train(*args):
  command = ([sys.executable, '-m', 'flaxen'] if (ROOT / 'flaxen' / '__main__.py').exists()
             else [sys.executable, '-c', ENTRY])
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu', PYTHONWARNINGS='ignore')
  proc = subprocess.run([*command, 'train', '--model', 'mlp', '--batch-size', '16', '--progress',
                         'plain', '--no-plot', *args], env=env, capture_output=True, text=True,
                        timeout=600, cwd=str(ROOT))
  return proc.returncode, proc.stdout, proc.stderr


def flip_array_bytes(checkpoint: pathlib.Path, count: int = 16) -> None:
  """Flips ``count`` bytes in the middle of the largest data file of a checkpoint."""
  files = [checkpoint] if checkpoint.is_file() else [
    p for p in checkpoint.rglob('*') if p.is_file()]
  victim = max(files, key=lambda p: p.stat().st_size)
  data = bytearray(victim.read_bytes())
  middle = len(data) // 2
  for i in range(middle, middle + count):
    data[i] ^= 0xA5
  victim.write_bytes(bytes(data))


def losses(text: str) -> list[float]:
  numbers = re.findall(r'loss\W*([-+]?(?:[0-9.]+(?:[eE][-+]?\d+)?|nan|inf))', text, re.I)
  return [float(x) for x in numbers]


def test_resume_skips_a_corrupted_checkpoint(tmp_path, npz):
  work = tmp_path / 'run'
  code, out, err = flaxen_train('--data', npz, '--epochs', '2', '--workdir', str(work))
  assert code == 0, err
  ckpts = work / 'checkpoints'
  names = sorted(p.name for p in ckpts.iterdir() if not p.name.startswith('.'))
  assert names == ['checkpoint_4', 'checkpoint_8'], names
  flip_array_bytes(ckpts / 'checkpoint_8')

  code, out, err = flaxen_train('--data', npz, '--epochs', '3', '--workdir', str(work),
                                '--resume')
  assert code == 0, err
  assert 'Traceback' not in err
  assert f'Skipping damaged checkpoint {ckpts / "checkpoint_8"}' in err
  resumed = [line for line in out.splitlines() if 'resumed' in line.lower()]
  assert resumed and 'step 4' in resumed[0], out  # from the newest intact checkpoint
  trained = losses(out)
  assert trained and all(np.isfinite(trained)) and max(trained) < 10, out
