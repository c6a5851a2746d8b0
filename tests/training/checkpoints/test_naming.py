"""Checkpoint names, natural sort (SPEC L24527-L24533) and listing."""

import os

import numpy as np
import pytest

from flaxen import serialization
from flaxen._src.training.checkpoints import naming
from flaxen.training import checkpoints


@pytest.mark.parametrize('names, newest', [
  (['ckpt_1', 'ckpt_2', 'ckpt_3'], 'ckpt_3'),
  (['ckpt_0.01', 'ckpt_0.1', 'ckpt_0.001'], 'ckpt_0.1'),
  (['ckpt_-1.0', 'ckpt_1.0', 'ckpt_1e5'], 'ckpt_1e5'),
  (['ckpt_9', 'ckpt_10', 'ckpt_100'], 'ckpt_100'),
])
def test_natural_sort_examples(names, newest):
  assert checkpoints.natural_sort(names)[-1] == newest
  assert checkpoints.natural_sort(reversed(names))[-1] == newest


def test_natural_sort_full_order_and_unsigned():
  assert checkpoints.natural_sort(['a_10', 'a_9', 'b_1', 'a_-2']) == ['a_-2', 'a_9', 'a_10', 'b_1']
  # unsigned: '-' is text, so 'a_-2' is the text 'a_-' then 2, after every 'a_<n>'
  assert checkpoints.natural_sort(['a_-2', 'a_3'], signed=False) == ['a_3', 'a_-2']
  assert checkpoints.natural_sort(['a_3', 'a_-2']) == ['a_-2', 'a_3']
  assert checkpoints.natural_sort(['x2y10', 'x2y9', 'x10y1']) == ['x2y9', 'x2y10', 'x10y1']


@pytest.mark.parametrize('ckpts, newest', [
  (['1', '2', '3'], 3), (['0.01', '0.1', '0.001'], 0.1), (['-1.0', '1.0', '1e5'], 1e5),
])
def test_restore_picks_the_naturally_newest(tmp_path, ckpts, newest):
  for s in ckpts:  # written directly: overwrite=True would delete the newer ones
    (tmp_path / f'ckpt_{s}').write_bytes(serialization.to_bytes({'v': np.asarray(float(s))}))
  assert float(checkpoints.restore_checkpoint(tmp_path, None, prefix='ckpt_')['v']) == newest


@pytest.mark.parametrize('name, ok', [
  ('checkpoint_3', True), ('checkpoint_0.5', True), ('checkpoint_-2', True), ('checkpoint_1e5', True),
  ('checkpoint_tmp', False), ('checkpoint_3_gda', False), ('checkpoint_', False),
  ('.checkpoint_3.flaxen-tmp-12-ab', False), ('checkpoint_3.flaxen-tmp-1-a', False),
  ('other_3', False), ('checkpoint_3x', False),
])
def test_only_numbered_names_are_checkpoints(name, ok):
  assert (naming.step_suffix(name, 'checkpoint_') is not None) is ok


def test_temporary_names_never_match_the_checkpoint_pattern(tmp_path):
  for prefix in ('checkpoint_', '', 'ckpt-', '.hidden_'):
    path = naming.checkpoint_path(str(tmp_path), 7, prefix)
    tmp = naming.tmp_path(path, 'abcd')
    assert os.path.dirname(tmp) == str(tmp_path)
    assert naming.step_suffix(os.path.basename(tmp), prefix) is None
    assert naming.tmp_owner_pid(os.path.basename(tmp)) == os.getpid()
  assert naming.tmp_owner_pid('checkpoint_3') is None


def test_available_steps(tmp_path):
  assert checkpoints.available_steps(tmp_path / 'missing') == []
  for step in (2, 10, 33):
    checkpoints.save_checkpoint(tmp_path, {'a': 1}, step, keep=5)
  (tmp_path / 'checkpoint_tmp').write_bytes(b'x')
  (tmp_path / 'unrelated').write_bytes(b'x')
  assert checkpoints.available_steps(tmp_path) == [2, 10, 33]
  checkpoints.save_checkpoint(tmp_path, {'a': 1}, 0.5, prefix='f_')
  assert checkpoints.available_steps(tmp_path, prefix='f_', step_type=float) == [0.5]
