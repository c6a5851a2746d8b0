"""Batch sources of the training loop and the layout of one batch.

A *batch* is ``(inputs, targets)`` or ``(inputs, targets, weights)`` (a tuple or
a list), or a mapping with the keys ``'inputs'``, ``'targets'`` and optionally
``'weights'``. When ``inputs`` is a tuple, its items are the model's positional
arguments; otherwise ``inputs`` is the single argument. ``weights`` (one number
per example, 0 for padding rows) turn every loss and metric into a weighted mean.

A *source* of batches is one of:
  * a callable ``epoch -> iterable of batches`` (``epoch`` counts from 1). The
    recommended form: when the batches depend only on ``epoch``, a resumed run
    sees exactly the batches an uninterrupted run would (``ArrayBatches`` is one);
  * a re-iterable (a list, or any object whose ``__iter__`` starts over): iterated
    afresh every epoch;
  * a one-shot iterator (a generator): one stream cut into epochs of
    ``steps_per_epoch`` batches; on resume the batches already trained on are
    read and skipped.

``steps_per_epoch`` caps the batches taken from a callable or a re-iterable too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jax
import numpy as np

from flaxen._src.public import set_module

_LAYOUT = ("a batch must be (inputs, targets), (inputs, targets, weights) or a mapping with "
           "the keys 'inputs', 'targets' and optionally 'weights'")
_REMAINDERS = ('drop', 'pad', 'keep')


def split_batch(batch: Any) -> tuple[tuple[Any, ...], Any, Any]:
  """``batch`` -> ``(model positional args, targets, weights or None)``.

  Raises:
    TypeError: ``batch`` has another layout (the message shows the accepted ones).
  """
  if isinstance(batch, Mapping):
    if 'inputs' not in batch or 'targets' not in batch:
      raise TypeError(f'{_LAYOUT}; got a mapping with keys {sorted(map(str, batch))}')
    inputs, targets, weights = batch['inputs'], batch['targets'], batch.get('weights')
  elif isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
    inputs, targets = batch[0], batch[1]
    weights = batch[2] if len(batch) == 3 else None
  else:
    size = f' of length {len(batch)}' if isinstance(batch, (tuple, list)) else ''
    raise TypeError(f'{_LAYOUT}; got a {type(batch).__name__}{size}')
  args = tuple(inputs) if isinstance(inputs, tuple) else (inputs,)
  return args, targets, weights


class BatchSource:
  """One of the three kinds of source (see the module docstring) behind one interface."""

  def __init__(self, data: Any, steps_per_epoch: int | None, what: str,
               reiterable: bool = False):
    self.what = what
    self.steps_per_epoch = steps_per_epoch
    self._pending: list[Any] = []
    if callable(data):
      self.kind, self._data = 'callable', data
    elif isinstance(data, Iterable):
      if iter(data) is data:
        if reiterable:
          raise TypeError(
            f'{what} must be re-iterable (a list, ArrayBatches, or a callable returning '
            f'the batches); a one-shot iterator would be empty on its second pass'
          )
        if steps_per_epoch is None:
          raise ValueError(
            f'{what} is a one-shot iterator: give steps_per_epoch to cut it into epochs '
            f'(or pass a callable epoch -> batches)'
          )
        self.kind, self._data = 'stream', data
      else:
        self.kind, self._data = 'iterable', data
    else:
      raise TypeError(
        f'{what} must be a callable epoch -> batches, or an iterable of batches; '
        f'got {type(data).__name__}'
      )

  def first(self) -> Any:
    """The first batch of epoch 1, without using it up."""
    if self.kind == 'stream':
      if not self._pending:
        self._pending = list(itertools.islice(self._data, 1))
      batches = iter(self._pending)
    else:
      batches = iter(self._open(1))
    for batch in batches:
      return batch
    raise ValueError(f'{self.what} yielded no batch')

  def _open(self, epoch: int) -> Iterable[Any]:
    return self._data(epoch) if self.kind == 'callable' else self._data

  def skip(self, count: int) -> None:
    """Reads and drops ``count`` batches of a stream (resume); a no-op otherwise."""
    if self.kind != 'stream' or count <= 0:
      return
    dropped = min(count, len(self._pending))
    del self._pending[:dropped]
    for _ in itertools.islice(self._data, count - dropped):
      pass

  def epoch(self, epoch: int) -> Iterator[Any]:
    """The batches of ``epoch`` (1-based)."""
    if self.kind == 'stream':
      pending, self._pending = self._pending, []
      batches: Iterable[Any] = itertools.chain(pending, self._data)
    else:
      batches = self._open(epoch)
    if self.steps_per_epoch is not None:
      batches = itertools.islice(batches, self.steps_per_epoch)
    return iter(batches)


@set_module('flaxen.training.loop')
class ArrayBatches:
  """Batches of in-memory arrays: a batch source for ``fit`` and ``evaluate``.

  Calling it with an epoch number (from 1) returns that epoch's batches. With
  ``shuffle=True`` the order is a permutation drawn from ``(seed, epoch)`` alone
  (numpy's PCG64), so every epoch differs and a resumed run repeats it exactly.

  Args:
    inputs: an array with examples on axis 0, or a tuple of such arrays (the
      model's positional arguments).
    targets: an array (or a pytree of arrays) with examples on axis 0.
    batch_size: examples per batch.
    shuffle: draw a new order every epoch (training) or keep the order (evaluation).
    seed: the shuffling seed (a non-negative integer).
    remainder: what to do with the last ``len % batch_size`` examples: ``'drop'``
      them (the default when shuffling: every step has one shape and compiles
      once), ``'pad'`` them with zero rows and yield ``(inputs, targets, weights)``
      batches whose weights are 0 for padding (the default otherwise: every
      example counts once and every batch has one shape), or ``'keep'`` them in
      a smaller last batch.

  Raises:
    ValueError: a bad size, seed or remainder, or inputs and targets of
      different lengths.

  Example:
    >>> import numpy as np
    >>> from flaxen.training.loop import ArrayBatches
    >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> batches = ArrayBatches(x, y, batch_size=2, shuffle=False)
    >>> len(batches), [b[2].tolist() for b in batches(1)]
    (3, [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
  """

  def __init__(self, inputs: Any, targets: Any, batch_size: int, *, shuffle: bool = True,
               seed: int = 0, remainder: str | None = None):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
        or batch_size < 1:
      raise ValueError(f'batch_size must be a positive integer, got {batch_size!r}')
    if not isinstance(seed, (int, np.integer)) or seed < 0:
      raise ValueError(f'seed must be a non-negative integer, got {seed!r}')
    remainder = remainder or ('drop' if shuffle else 'pad')
    if remainder not in _REMAINDERS:
      raise ValueError(f'remainder must be one of {_REMAINDERS}, got {remainder!r}')
    self.inputs = inputs
    self.targets = targets
    self.batch_size = int(batch_size)
    self.shuffle = shuffle
    self.seed = int(seed)
    self.remainder = remainder
    sizes = {np.shape(leaf)[0] for leaf in jax.tree_util.tree_leaves((inputs, targets))}
    if len(sizes) != 1:
      raise ValueError(f'inputs and targets must hold the same number of examples, '
                       f'got {sorted(sizes)}')
    self.num_examples = sizes.pop()
    if remainder == 'drop' and self.num_examples < self.batch_size:
      raise ValueError(f'batch_size {self.batch_size} is larger than the '
                       f'{self.num_examples} examples')

  def __len__(self) -> int:
    full, rest = divmod(self.num_examples, self.batch_size)
    return full + (1 if rest and self.remainder != 'drop' else 0)

  def _order(self, epoch: int) -> np.ndarray:
    if self.shuffle:
      return np.random.default_rng([self.seed, epoch]).permutation(self.num_examples)
    return np.arange(self.num_examples)

  def __call__(self, epoch: int = 1) -> Iterator[tuple[Any, ...]]:
    order = self._order(epoch)
    for i in range(len(self)):
      idx = order[i * self.batch_size:(i + 1) * self.batch_size]
      x, y = _take(self.inputs, idx), _take(self.targets, idx)
      if self.remainder != 'pad':
        yield x, y
        continue
      weights = np.zeros((self.batch_size,), np.float32)
      weights[:idx.shape[0]] = 1.0
      pad = self.batch_size - idx.shape[0]
      yield _pad(x, pad), _pad(y, pad), weights

  def __repr__(self) -> str:
    return (f'ArrayBatches({self.num_examples} examples, batch_size={self.batch_size}, '
            f'shuffle={self.shuffle}, seed={self.seed}, remainder={self.remainder!r})')


def _take(tree: Any, idx: np.ndarray) -> Any:
  return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], tree)


def _pad(tree: Any, pad: int) -> Any:
  if not pad:
    return tree

  def grow(a):
    return np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])

  return jax.tree_util.tree_map(grow, tree)

