"""Initializing nn.scan: parameters created before the loop equal those the loop creates.

Each case initializes twice: as is, and with the creation before the loop switched
off (the loop then creates every parameter: the reference's program); the variables
must agree bit for bit, including keys drawn after a parameter (dropout).
"""

import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.core import lazy_record
from flaxen._src.core.lift import scan_init

KEYS = {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}
X = jnp.ones((2, 4))


def _same(a, b):
  la, ta = jax.tree_util.tree_flatten(a)
  lb, tb = jax.tree_util.tree_flatten(b)
  assert ta == tb
  for x, y in zip(la, lb):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture
def made(monkeypatch):
  """Names of the parameters created before a loop."""
  names = []
  original = scan_init._insert

  def counting(scan_vars, group, created):
    names.extend(name for entries in created.values() for _, name, _ in entries)
    return original(scan_vars, group, created)

  monkeypatch.setattr(scan_init, "_insert", counting)
  return names


@pytest.fixture
def reruns(monkeypatch):
  """How many times each init ran (2: tainted, run again without the shortcut)."""
  counts = []
  original = lazy_record.output_unused

  def counting(call):
    calls = []

    def wrapped(flags):
      calls.append(flags)
      return call(flags)

    out = original(wrapped)
    counts.append(len(calls))
    return out

  monkeypatch.setattr(lazy_record, "output_unused", counting)
  return counts


def _reference(monkeypatch, fn):
  with monkeypatch.context() as m:
    m.setattr(scan_init, "planner",
              lambda *a: lambda trace_once, xs: (xs, contextlib.nullcontext()))
    return fn()


class Block(nn.Module):
  train: bool = True

  @nn.compact
  def __call__(self, x, _):
    y = nn.Dense(4, kernel_init=nn.with_partitioning(nn.initializers.lecun_normal(), (None, "m")))(x)
    y = nn.Dropout(0.5, deterministic=not self.train)(y)  # a key drawn after the kernel's
    y = nn.LayerNorm()(y)
    y = nn.BatchNorm(use_running_average=not self.train)(y)
    return x + nn.Dense(4, use_bias=False)(y), None


def _stack(block, after=None, axes=None, **kw):
  class Stack(nn.Module):
    @nn.compact
    def __call__(self, x):
      scan = nn.scan(block, variable_axes=axes or {"params": 0, "batch_stats": 0},
                     split_rngs={"params": True, "dropout": True}, in_axes=nn.broadcast,
                     length=3, metadata_params={nn.PARTITION_NAME: "layers"}, **kw)
      x = scan(name="layers")(x, None)[0]
      if after is not None:
        after(self, x)
      return nn.Dense(2)(x)

  return Stack()


def test_init_creates_before_the_loop_same_values(monkeypatch, made):
  model = _stack(Block)
  got = model.init(KEYS, X)
  _same(got, _reference(monkeypatch, lambda: model.init(KEYS, X)))
  assert sorted(made) == ["bias"] * 3 + ["kernel"] * 2 + ["scale"] * 2  # every parameter
  kernel = got["params"]["layers"]["Dense_0"]["kernel"]
  assert kernel.value.shape == (3, 4, 4) and kernel.names == ("layers", None, "m")


def test_init_with_output_keeps_the_loop_that_creates(monkeypatch, made):
  # its output is returned: computed by the reference's program, bit for bit
  model = _stack(Block)
  got = model.init_with_output(KEYS, X)
  _same(got, _reference(monkeypatch, lambda: model.init_with_output(KEYS, X)))
  assert not made


def test_lazy_init_same_values(made):
  model = _stack(Block)
  got = model.lazy_init(KEYS, jax.ShapeDtypeStruct(X.shape, X.dtype))
  _same(got, model.init(KEYS, X))
  assert made


def test_forward_value_written_after_the_loop_runs_init_again(monkeypatch, made, reruns):
  def sow_after(mdl, x):
    mdl.sow("stats", "mean", x.mean())

  model = _stack(Block, after=sow_after)
  got = model.init(KEYS, X)
  assert reruns == [2]
  _same(got, _reference(monkeypatch, lambda: model.init(KEYS, X)))


def test_forward_value_written_in_the_body_keeps_the_loop(monkeypatch, made, reruns):
  class Sowing(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      x = nn.Dense(4)(x)
      self.sow("stats", "mean", x.mean())
      return x, None

  model = _stack(Sowing, axes={"params": 0, "stats": 0})
  got = model.init(KEYS, X)
  assert not made and reruns == [1]
  _same(got, _reference(monkeypatch, lambda: model.init(KEYS, X)))


def test_user_initializer_is_left_to_the_loop(monkeypatch, made):
  class Custom(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      w = self.param("w", lambda key, shape: jax.random.normal(key, shape) * 2, (4,))
      return x * w[None], None

  model = _stack(Custom)
  _same(model.init(KEYS, X), _reference(monkeypatch, lambda: model.init(KEYS, X)))
  assert not made


def test_nested_scans(monkeypatch):
  class Inner(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      return jnp.tanh(nn.Dense(4)(x)), None

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x, _):
      scan = nn.scan(Inner, variable_axes={"params": 0}, split_rngs={"params": True},
                     in_axes=nn.broadcast, length=2)
      return scan()(x, None)[0], None

  model = _stack(Outer)
  got = model.init(KEYS, X)
  _same(got, _reference(monkeypatch, lambda: model.init(KEYS, X)))
  assert got["params"]["layers"]["ScanInner_0"]["Dense_0"]["kernel"].shape == (3, 2, 4, 4)


def test_params_on_another_axis_are_created_in_the_loop(monkeypatch, made):
  class Stack(nn.Module):
    @nn.compact
    def __call__(self, x):
      scan = nn.scan(Block, variable_axes={"params": 1, "batch_stats": 0},
                     split_rngs={"params": True, "dropout": True}, in_axes=nn.broadcast,
                     length=3, metadata_params={nn.PARTITION_NAME: "layers"})
      return scan(train=False)(x, None)[0]

  got = Stack().init(KEYS, X)
  _same(got, _reference(monkeypatch, lambda: Stack().init(KEYS, X)))
  assert got["params"]["ScanBlock_0"]["Dense_1"]["kernel"].shape == (4, 3, 4)
  assert not made
