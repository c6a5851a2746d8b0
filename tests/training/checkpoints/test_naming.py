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
  # unsigned (the reference's pattern): a sign is dropped, so 'a_-2' sorts as 'a_' then 2
  assert checkpoints.natural_sort(['a_-2', 'a_3'], signed=False) == ['a_-2', 'a_3']
  assert checkpoints.natural_sort(['a_-2', 'a_+1', 'a_0'], signed=False) == ['a_0', 'a_+1', 'a_-2']
  assert checkpoints.natural_sort(['a_3', 'a_-2']) == ['a_-2', 'a_3']
  assert checkpoints.natural_sort(['x2y10', 'x2y9', 'x10y1']) == ['x2y9', 'x2y10', 'x10y1']


@pytest.mark.parametrize('ckpts, newest', [
  (['1', '2', '3'], 3), (['0.01', '0.1', '0.001'], 0.1), (['-1.0', '1.0', '1e5'], 1e5),
])
def test_restore_picks_the_naturally_newest(tmp_path, ckpts, newest, msgpack):
  for s in ckpts:  # written directly: overwrite=True would delete the newer ones
    (tmp_path / f'ckpt_{s}').write_bytes(serialization.to_bytes({'v': np.asarray(float(s))}))
  assert float(checkpoints.restore_checkpoint(tmp_path, None, prefix='ckpt_')['v']) == newest


@pytest.mark.parametrize('name, ok', [
  ('checkpoint_3', True), ('checkpoint_0.5', True), ('checkpoint_-2', True), ('checkpoint_1e5', True),
  ('checkpoint_tmp', False), ('checkpoint_3_gda', False), ('checkpoint_', False),
  ('.checkpoint_3.flaxen-tmp-12-ab', False), ('checkpoint_3.flaxen-tmp-1-a', False),
  ('checkpoint_3.orbax-checkpoint-tmp', False), ('other_3', False), ('checkpoint_3x', False),
  ('checkpoint_nan', False), ('checkpoint_inf', False), ('checkpoint_None', False),
])
def test_only_numbered_names_are_checkpoints(name, ok):
  assert (naming.step_suffix(name, 'checkpoint_') is not None) is ok


def test_helper_names_never_match_the_checkpoint_pattern(tmp_path):
  for prefix in ('checkpoint_', '', 'ckpt-', '.hidden_'):
    path = naming.checkpoint_path(str(tmp_path), 7, prefix)
    for kind in ('record', 'lock', 'tmp', 'staging', 'trash'):
      helper = naming.helper_path(path, kind, 'abcd1234')
      assert os.path.dirname(helper) == str(tmp_path)
      name = os.path.basename(helper)
      assert name.startswith('.') and naming.step_suffix(name, prefix) is None
      assert naming.parse_helper(name) == (f'{prefix}7', kind, '' if kind == 'record' else 'abcd1234')
  assert naming.parse_helper('checkpoint_3') is None
  assert naming.parse_helper('.checkpoint_3.flaxen-staging-ab12.orbax-checkpoint-tmp') == (
    'checkpoint_3', 'staging', 'ab12')
  assert naming.orbax_tmp_owner('checkpoint_3.orbax-checkpoint-tmp') == 'checkpoint_3'
  assert naming.orbax_tmp_owner('checkpoint_3') is None


def test_safe_normpath_keeps_schemes():
  assert checkpoints.safe_normpath('gs://bucket//a/./b/') == 'gs://bucket/a/b'
  assert checkpoints.safe_normpath('./x//y/') == 'x/y'
  assert checkpoints.safe_normpath('/abs/../p') == '/p'


def test_available_steps(tmp_path, fmt):
  assert checkpoints.available_steps(tmp_path / 'missing') == []
  for step in (2, 10, 33):
    checkpoints.save_checkpoint(tmp_path, {'a': 1}, step, keep=5)
  (tmp_path / 'checkpoint_tmp').write_bytes(b'x')
  (tmp_path / 'unrelated').write_bytes(b'x')
  assert checkpoints.available_steps(tmp_path) == [2, 10, 33]
  checkpoints.save_checkpoint(tmp_path, {'a': 1}, 0.5, prefix='f_')
  assert checkpoints.available_steps(tmp_path, prefix='f_', step_type=float) == [0.5]
