"""Named calls: jax.named_scope around module methods (visible in jaxpr name stacks)."""

import jax
import jax.numpy as jnp

from flaxen import linen as nn
from flaxen._src.linen.module import named_call


class Inner(nn.Module):
  def __call__(self, x):
    return jnp.sin(x)

  def other(self, x):
    return jnp.cos(x)


class Outer(nn.Module):
  def setup(self):
    self.inner = Inner()

  def __call__(self, x):
    return self.inner(x) + self.inner.other(x)


def name_stacks(enable):
  with nn.override_named_call(enable):
    jaxpr = jax.make_jaxpr(lambda x: Outer().apply({}, x))(jnp.ones(2))
  return [str(e.source_info.name_stack) for e in jaxpr.jaxpr.eqns]


def test_named_call_on_and_off():
  on = name_stacks(True)
  assert any(s.endswith("inner") for s in on)
  assert any("inner.other" in s for s in on)
  assert all(s == "" for s in name_stacks(False))


def _stacks():
  jaxpr = jax.make_jaxpr(lambda x: Outer().apply({}, x))(jnp.ones(2))
  return [str(e.source_info.name_stack) for e in jaxpr.jaxpr.eqns]


def test_enable_disable(monkeypatch):
  monkeypatch.setattr(named_call, "_default", None)  # restore the process-wide switch after
  nn.disable_named_call()
  assert all(s == "" for s in _stacks())
  nn.enable_named_call()
  assert any(s for s in _stacks())


def test_enable_disable_inside_an_override_win(monkeypatch):
  """As in the reference, the last switch wins, also inside ``override_named_call``."""
  monkeypatch.setattr(named_call, "_default", None)
  with nn.override_named_call(True):
    nn.disable_named_call()
    assert all(s == "" for s in _stacks())
    nn.enable_named_call()
    assert any(s for s in _stacks())
  with nn.override_named_call(False):
    assert all(s == "" for s in _stacks())
  assert any(s for s in _stacks())  # the process-wide switch is back in charge


def test_label_and_method_name():
  import functools

  class M(nn.Module):
    def f(self, x):
      return x

  assert named_call.label(M(name="m"), "__call__") == "m"
  assert named_call.label(M(), "f") == "M.f"
  assert named_call.method_name(functools.partial(functools.partial(M.f, x=1))) == "f"
