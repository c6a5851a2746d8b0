"""``EarlyStopping``: stop training once a metric stops improving.

An immutable struct: ``update(metric)`` returns a new ``EarlyStopping``.

Rule: a metric *improves* when no best value exists yet (``best_metric`` is
infinite) or ``best_metric - metric > min_delta`` (lower is better); that resets
``patience_count``. Otherwise ``patience_count`` grows by one, and
``should_stop`` becomes true once the count *before* this update had already
reached ``patience`` (so ``patience=2`` stops at the third non-improving update).
``should_stop`` stays true until ``reset()``.

Both calling conventions of the reference work: the result of ``update`` is the
new state (newer releases, with the ``has_improved`` attribute) and also unpacks
as the pair ``(has_improved, new_state)`` (older releases and the seed docs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.tree import struct


@set_module('flaxen.training.early_stopping')
class EarlyStopping(struct.PyTreeNode):
  """Early stopping on a metric where lower is better.

  Attributes:
    min_delta: the smallest decrease that counts as an improvement.
    patience: non-improving updates tolerated before ``should_stop``.
    best_metric: the best value seen so far (``inf`` before the first update).
    patience_count: non-improving updates since the last improvement.
    should_stop: whether the training loop should stop.
    has_improved: whether the last update improved ``best_metric``.

  Example:
    >>> from flaxen.training.early_stopping import EarlyStopping
    >>> es = EarlyStopping(min_delta=1e-3, patience=1)
    >>> for loss in [1.0, 0.5, 0.4999, 0.4999]:
    ...   _, es = es.update(loss)
    >>> es.should_stop, es.best_metric
    (True, 0.5)
  """

  min_delta: float = 0
  patience: int = 0
  best_metric: float = float('inf')
  patience_count: int = 0
  should_stop: bool = False
  has_improved: bool = False

  def reset(self) -> EarlyStopping:
    """Forgets the best metric and the stop decision (keeps ``min_delta``/``patience``)."""
    return self.replace(
      best_metric=float('inf'), patience_count=0, should_stop=False, has_improved=False
    )

  def update(self, metric: Any) -> EarlyStopping:
    """Records a new metric value.

    Returns:
      The updated state. It also unpacks as ``(has_improved, new_state)``.
    """
    if math.isinf(self.best_metric) or self.best_metric - metric > self.min_delta:
      return self.replace(best_metric=metric, patience_count=0, has_improved=True)
    stop = self.should_stop or self.patience_count >= self.patience
    return self.replace(
      patience_count=self.patience_count + 1, should_stop=stop, has_improved=False
    )

  def __iter__(self) -> Iterator[Any]:
    # ``has_improved, state = es.update(m)`` (the pre-0.7 return value).
    return iter((self.has_improved, self))
