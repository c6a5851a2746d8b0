"""Legacy learning-rate schedules (SPEC §1.11 formulae)."""

import logging
import math

import jax
import numpy as np
import pytest

from flaxen.training import lr_schedule


def test_constant_with_warmup():
  f = lr_schedule.create_constant_learning_rate_schedule(0.1, steps_per_epoch=10, warmup_length=2)
  for step in (0, 1, 5, 19, 20, 100):
    assert float(f(step)) == pytest.approx(0.1 * min(1.0, step / 20))
  g = lr_schedule.create_constant_learning_rate_schedule(0.3, 10)
  assert float(g(0)) == pytest.approx(0.3)


def test_stepped_boundaries_are_strict():
  f = lr_schedule.create_stepped_learning_rate_schedule(
    1.0, 10, [[30, 0.1], [60, 0.01], [80, 0.001]])
  expect = {0: 1.0, 300: 1.0, 301: 0.1, 600: 0.1, 601: 0.01, 800: 0.01, 801: 0.001, 10**5: 0.001}
  for step, lr in expect.items():
    assert float(f(step)) == pytest.approx(lr), step
  fw = lr_schedule.create_stepped_learning_rate_schedule(2.0, 4, [[1.5, 0.5]], warmup_length=1)
  assert float(fw(2)) == pytest.approx(2.0 * 0.5)  # warmup 2/4
  assert float(fw(7)) == pytest.approx(1.0)  # boundary round(1.5*4)=6 < 7
  with pytest.raises(ValueError, match='pairs'):
    lr_schedule.create_stepped_learning_rate_schedule(1.0, 10, [[30]])


def test_cosine_with_warmup_and_jit():
  f = lr_schedule.create_cosine_learning_rate_schedule(0.5, 10, halfcos_epochs=4, warmup_length=1)
  for step in (0, 3, 10, 20, 39, 40):
    want = 0.5 * (0.5 * math.cos(math.pi * step / 40) + 0.5) * min(1.0, step / 10)
    assert float(f(step)) == pytest.approx(want, abs=1e-6)
  np.testing.assert_allclose(jax.jit(f)(20), f(20), rtol=1e-6)


def test_each_call_logs_deprecation(caplog):
  with caplog.at_level(logging.WARNING):
    lr_schedule.create_constant_learning_rate_schedule(0.1, 1)
    lr_schedule.create_cosine_learning_rate_schedule(0.1, 1, 1)
  assert sum('deprecated' in r.getMessage() for r in caplog.records) == 2
