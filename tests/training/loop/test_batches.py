"""Batch layouts, the three kinds of batch source, and ArrayBatches."""

import numpy as np
import pytest

from flaxen._src.training.loop.batches import BatchSource, split_batch
from flaxen.training.loop import ArrayBatches


def test_split_batch_layouts():
  x, y, w = np.ones((2, 3)), np.zeros(2), np.ones(2)
  assert split_batch((x, y))[0][0] is x and split_batch((x, y))[2] is None
  assert split_batch([x, y, w])[2] is w
  args, targets, weights = split_batch({'inputs': (x, x), 'targets': y, 'weights': w})
  assert len(args) == 2 and targets is y and weights is w  # a tuple spreads into arguments


@pytest.mark.parametrize('bad,found', [
  ((1,), 'a tuple of length 1'), ({'x': 1, 'y': 2}, "a mapping with keys ['x', 'y']"),
  (np.ones(3), 'a ndarray'),
])
def test_split_batch_rejects_other_layouts(bad, found):
  with pytest.raises(TypeError, match='a batch must be') as info:
    split_batch(bad)
  assert found in str(info.value)


def test_callable_source_gets_the_epoch_and_a_cap():
  seen = []

  def batches(epoch):
    seen.append(epoch)
    return [(epoch, i) for i in range(5)]

  source = BatchSource(batches, 3, 'train_data')
  assert source.kind == 'callable' and source.first() == (1, 0)
  assert list(source.epoch(2)) == [(2, 0), (2, 1), (2, 2)]
  assert seen == [1, 2]


def test_reiterable_source_starts_over_every_epoch():
  source = BatchSource([(1, 1), (2, 2)], None, 'train_data')
  assert source.kind == 'iterable'
  assert list(source.epoch(1)) == list(source.epoch(2)) == [(1, 1), (2, 2)]


def test_stream_is_cut_into_epochs_and_skips_on_resume():
  source = BatchSource(iter(range(10)), 3, 'train_data')
  assert source.first() == 0  # peeked, not used up
  assert list(source.epoch(1)) == [0, 1, 2] and list(source.epoch(2)) == [3, 4, 5]
  resumed = BatchSource(iter(range(10)), 3, 'train_data')
  resumed.first()
  resumed.skip(6)  # two epochs already trained
  assert list(resumed.epoch(3)) == [6, 7, 8]


def test_source_errors():
  with pytest.raises(ValueError, match='one-shot iterator: give steps_per_epoch'):
    BatchSource(iter([]), None, 'train_data')
  with pytest.raises(TypeError, match='eval_data must be re-iterable'):
    BatchSource(iter([]), None, 'eval_data', reiterable=True)
  with pytest.raises(TypeError, match='got int'):
    BatchSource(3, None, 'train_data')
  with pytest.raises(ValueError, match='train_data yielded no batch'):
    BatchSource([], None, 'train_data').first()


def test_array_batches_shuffle_depends_only_on_seed_and_epoch():
  x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
  a = ArrayBatches(x, y, 3, seed=7)
  assert len(a) == 3  # the remainder is dropped when shuffling
  first = [b[1].tolist() for b in a(1)]
  assert first == [b[1].tolist() for b in ArrayBatches(x, y, 3, seed=7)(1)]
  assert first != [b[1].tolist() for b in a(2)]
  assert first != [b[1].tolist() for b in ArrayBatches(x, y, 3, seed=8)(1)]
  # the permutation is numpy's PCG64 of (seed, epoch): documented and stable
  assert first[0] == np.random.default_rng([7, 1]).permutation(10)[:3].tolist()
  for xb, yb in a(1):
    np.testing.assert_array_equal(xb[:, 0] / 2, yb)  # rows stay paired


def test_array_batches_pad_and_keep():
  x, y = np.ones((5, 2), np.float32), np.arange(5)
  padded = list(ArrayBatches(x, y, 2, shuffle=False)(1))
  assert [b[0].shape for b in padded] == [(2, 2)] * 3
  assert padded[-1][2].tolist() == [1.0, 0.0] and padded[-1][1].tolist() == [4, 0]
  kept = list(ArrayBatches(x, y, 2, shuffle=False, remainder='keep')(1))
  assert [len(b) for b in kept] == [2, 2, 2] and kept[-1][0].shape == (1, 2)
  multi = list(ArrayBatches((x, 2 * x), y, 5, shuffle=False)(1))
  assert isinstance(multi[0][0], tuple) and float(multi[0][0][1][0, 0]) == 2.0


@pytest.mark.parametrize('kwargs,match', [
  ({'batch_size': 0}, 'batch_size must be a positive integer, got 0'),
  ({'batch_size': 2, 'seed': -1}, 'seed must be a non-negative integer, got -1'),
  ({'batch_size': 2, 'remainder': 'cut'}, 'remainder must be one of'),
  ({'batch_size': 9}, 'batch_size 9 is larger than the 5 examples'),
])
def test_array_batches_errors(kwargs, match):
  with pytest.raises(ValueError, match=match):
    ArrayBatches(np.ones((5, 2)), np.arange(5), **kwargs)


def test_array_batches_length_mismatch():
  with pytest.raises(ValueError, match=r'same number of examples, got \[4, 5\]'):
    ArrayBatches(np.ones((5, 2)), np.arange(4), 2)
