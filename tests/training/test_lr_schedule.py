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
  # the reference reads entry[0] and entry[1] only: longer entries are accepted
  extra = lr_schedule.create_stepped_learning_rate_schedule(1.0, 10, [[1, 0.5, 'note']])
  assert float(extra(11)) == 0.5
  with pytest.raises(IndexError):
    lr_schedule.create_stepped_learning_rate_schedule(1.0, 10, [[30]])


def test_stepped_values_round_like_the_reference():
  # base * factor in float64, rounded to float32 once: 0.1 * 0.1 -> float32(0.01), whereas
  # float32 arithmetic would give 0.010000000707805157 (the reference: 0.009999999776482582)
  f = lr_schedule.create_stepped_learning_rate_schedule(0.1, 10, [[2, 0.5], [5, 0.1]])
  assert [float(f(s)) for s in (0, 21, 51)] == [
    0.10000000149011612, 0.05000000074505806, 0.009999999776482582]
  fw = lr_schedule.create_stepped_learning_rate_schedule(0.1, 10, [[2, 0.5], [5, 0.1]],
                                                         warmup_length=1)
  assert [float(fw(s)) for s in (0, 7, 14, 56)] == [
    0.0, 0.07000000029802322, 0.10000000149011612, 0.009999999776482582]


def test_constant_without_warmup_is_the_base_value():
  f = lr_schedule.create_constant_learning_rate_schedule(0.1, 10)
  assert f(5) == 0.1 and type(f(5)) is float  # as the reference: the number itself


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
  assert all(r.getMessage().startswith(
    'Learning rate schedules in ``flax.training`` are effectively deprecated in favor of '
    'Optax schedules.') for r in caplog.records)
