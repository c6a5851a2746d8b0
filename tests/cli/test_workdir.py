"""The work directory's bookkeeping: fresh starts, run settings, metrics log."""

import json

import numpy as np
import pytest

from flaxen._src.cli.workdir import RunDir, RunError
from flaxen.training import checkpoints


def test_layout(tmp_path):
  run = RunDir(tmp_path)
  assert run.checkpoints == str(tmp_path / 'checkpoints')
  assert run.info_path.endswith('run.json') and run.metrics_path.endswith('metrics.jsonl')
  assert run.plot_path.endswith('loss.png') and run.steps() == []


def test_start_fresh_refuses_then_overwrites(tmp_path):
  run = RunDir(tmp_path)
  for step in (3, 6):
    run.save({'w': np.full(2, step)}, step, keep=5)
  run.append_metrics({'epoch': 1})
  (tmp_path / 'loss.png').write_bytes(b'png')
  with pytest.raises(RunError, match=r'newest: step 6\). Pass --resume'):
    run.start_fresh(overwrite=False)
  assert run.steps() == [3, 6]
  run.start_fresh(overwrite=True)
  assert run.steps() == [] and not (tmp_path / 'metrics.jsonl').exists()
  assert not (tmp_path / 'loss.png').exists() and (tmp_path / 'checkpoints').is_dir()


def test_save_replaces_a_leftover_step_and_keeps_newest(tmp_path):
  run = RunDir(tmp_path)
  for step in (1, 2, 3):
    run.save({'w': np.full(2, step)}, step, keep=2)
  assert run.steps() == [2, 3]
  run.save({'w': np.full(2, 9)}, 2, keep=2)  # overwrite: step 2 rewritten, newer 3 dropped
  assert run.steps() == [2]
  restored = checkpoints.restore_checkpoint(run.checkpoints, None)
  assert restored['w'].tolist() == [9, 9]


def test_check_info(tmp_path):
  run = RunDir(tmp_path)
  run.check_info({'seed': 0})  # nothing saved yet: anything goes
  run.write_info({'seed': 0, 'batch_size': 32})
  assert json.loads((tmp_path / 'run.json').read_text()) == {'batch_size': 32, 'seed': 0}
  run.check_info({'seed': 0, 'batch_size': 32})
  with pytest.raises(RunError) as info:
    run.check_info({'seed': 1, 'batch_size': 32, 'model': 'cnn'})
  message = str(info.value)
  assert 'model: saved run None, now' in message and 'seed: saved run 0, now 1' in message
  (tmp_path / 'run.json').write_text('{not json')
  with pytest.raises(RunError, match='unreadable'):
    run.check_info({})


def test_metrics_log_survives_a_cut_line(tmp_path):
  run = RunDir(tmp_path)
  for epoch in (1, 2, 3):
    run.append_metrics({'epoch': epoch, 'loss': float(epoch)})
  with open(run.metrics_path, 'a') as f:
    f.write('{"epoch": 4, "lo')  # a crash in the middle of a write
  assert [r['epoch'] for r in run.read_metrics(10)] == [1, 2, 3]
  assert [r['epoch'] for r in run.read_metrics(2)] == [1, 2]
  run.write_metrics(run.read_metrics(2))
  assert [json.loads(x)['epoch'] for x in (tmp_path / 'metrics.jsonl').read_text().splitlines()
          ] == [1, 2]
