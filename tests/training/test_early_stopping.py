"""EarlyStopping: improvement rule, patience, reset, both return conventions."""

import math

import jax

from flaxen.training.early_stopping import EarlyStopping


def test_patience_counts_and_stops():
  es = EarlyStopping(min_delta=1e-3, patience=2)
  history = []
  for loss in [1.0, 0.9, 0.8995, 0.8993, 0.8991, 0.5]:
    improved, es = es.update(loss)
    history.append((improved, es.patience_count, es.should_stop))
  assert history == [(True, 0, False), (True, 0, False), (False, 1, False), (False, 2, False),
                     (False, 3, True), (True, 0, True)]
  assert es.best_metric == 0.5


def test_single_value_convention_and_has_improved():
  es = EarlyStopping(patience=0)
  es = es.update(1.0)
  assert es.has_improved and es.best_metric == 1.0
  es = es.update(1.0)
  assert not es.has_improved and es.should_stop and es.patience_count == 1


def test_reset_keeps_config():
  es = EarlyStopping(min_delta=0.1, patience=1).update(1.0).update(2.0).update(3.0)
  assert es.should_stop
  r = es.reset()
  assert (r.min_delta, r.patience) == (0.1, 1)
  assert math.isinf(r.best_metric) and r.patience_count == 0 and not r.should_stop


def test_is_a_pytree():
  es = EarlyStopping(patience=3).update(0.5)
  leaves = jax.tree_util.tree_leaves(es)
  assert 0.5 in leaves and 3 in leaves
