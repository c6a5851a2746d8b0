"""Named calls: jax.named_scope around module methods (visible in jaxpr name stacks)."""

import jax
import jax.numpy as jnp

from flaxen import linen as nn


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


def test_enable_disable():
  def stacks():
    jaxpr = jax.make_jaxpr(lambda x: Outer().apply({}, x))(jnp.ones(2))
    return [str(e.source_info.name_stack) for e in jaxpr.jaxpr.eqns]

  with nn.override_named_call(True):  # restores the global switch afterwards
    nn.disable_named_call()
    assert all(s == "" for s in stacks())
    nn.enable_named_call()
    assert any(s for s in stacks())
