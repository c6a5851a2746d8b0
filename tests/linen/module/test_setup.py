"""Lazy setup: when it runs, how often, and what unbound modules expose."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

zeros = jax.nn.initializers.zeros


class Log:
  """A mutable recorder (a list field would be frozen to a tuple when bound)."""

  def __init__(self):
    self.items = []

  def append(self, x):
    self.items.append(x)

  def __eq__(self, other):
    return self.items == other


class Counted(nn.Module):
  log: Log

  def setup(self):
    self.log.append("setup")
    self.w = self.param("w", zeros, (2,))

  def __call__(self, x):
    return x + self.w

  def twice(self, x):
    return self(self(x))


def test_setup_runs_once_per_bound_instance():
  log = Log()
  m = Counted(log)
  v = m.init(jax.random.PRNGKey(0), jnp.ones(2))
  assert log == ["setup"]
  m.apply(v, jnp.ones(2), method="twice")
  assert log == ["setup", "setup"]


def test_unbound_module_has_no_setup_attributes():
  m = Counted(Log())
  assert not hasattr(m, "w")
  with pytest.raises(AttributeError) as e:
    m.w  # noqa: B018
  assert str(e.value) == (
    '"Counted" object has no attribute "w". If "w" is defined in \'.setup()\', remember '
    "these fields are only accessible from inside 'init' or 'apply'."
  )


def test_setup_runs_on_attribute_access_of_bound_module():
  log = Log()
  bound = Counted(log).bind({"params": {"w": jnp.ones(2)}})
  assert log == []
  assert bound.w.shape == (2,)
  assert log == ["setup"]


def test_call_setup_unbound_module_error():
  class MyModule(nn.Module):
    def setup(self):
      self.sub = Counted(Log())

  with pytest.raises(errors.CallSetupUnboundModuleError):
    MyModule().setup()


def test_get_setup_submodule_with_nn_apply():
  class MyModule(nn.Module):
    def setup(self):
      self.submodule = Counted(Log(), name="ignored")

  sub = nn.apply(lambda m: m.submodule.clone(), MyModule())({})
  assert isinstance(sub, Counted) and sub.scope is None


def test_submodule_setup_runs_lazily():
  log = Log()

  class Parent(nn.Module):
    def setup(self):
      self.child = Counted(log)

    def __call__(self, x):
      log.append("parent")
      return self.child(x)

  Parent().init(jax.random.PRNGKey(0), jnp.ones(2))
  assert log == ["parent", "setup"]


def test_variables_in_setup_and_method_order():
  class M(nn.Module):
    def setup(self):
      self.count = self.variable("state", "n", lambda: 0)
      self.w = self.param("w", zeros, (1,))

    def __call__(self):
      return self.w

  v = M().init(jax.random.PRNGKey(0))
  assert list(v) == ["state", "params"]


def test_fields_are_walked_once_when_none_holds_a_module(monkeypatch):
  # Attaching a module registers the submodules held in its fields; setup would do it
  # again. When attaching found no Module or container there, setup skips the walk
  # (it runs for every module of every call, eager or traced).
  from flaxen._src.linen.module import naming

  walked = []
  original = naming.register_field_submodules

  def spy(module):
    walked.append(type(module).__name__)
    return original(module)

  monkeypatch.setattr(naming, "register_field_submodules", spy)

  class Outer(nn.Module):
    inner: nn.Module

    @nn.compact
    def __call__(self, x):
      return nn.DenseGeneral((2, 1), axis=[-1])(nn.Dense(2)(self.inner(x)))

  model = Outer(nn.Dense(3))
  variables = model.init(jax.random.key(0), jnp.ones((1, 2)))
  walked.clear()
  model.apply(variables, jnp.ones((1, 2)))
  # Outer holds a Module: walked when attached and in setup; the layers (plain values
  # and containers only) once each.
  assert walked.count("Outer") == 2
  assert walked.count("Dense") == 2
  assert walked.count("DenseGeneral") == 1
  assert variables["params"]["inner"]["kernel"].shape == (2, 3)
  assert variables["params"]["DenseGeneral_0"]["kernel"].shape == (2, 2, 1)
