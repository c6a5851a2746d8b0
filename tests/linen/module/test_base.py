"""flaxen._src.linen.module.base: the ``ModuleBase`` marker and the unspecified-parent sentinel."""

import copy
import dataclasses
import pickle

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn
from flaxen._src.linen.module.base import UNSPECIFIED_PARENT, ModuleBase


def test_every_module_is_a_module_base():
  assert issubclass(nn.Module, ModuleBase)
  assert isinstance(nn.Dense(3), ModuleBase)
  assert isinstance(nn.Sequential([nn.relu]), ModuleBase)
  assert not isinstance(object(), ModuleBase)
  assert ModuleBase.__slots__ == ()  # adds no per-instance storage


def test_sentinel_is_the_parent_default():
  by_name = {f.name: f for f in dataclasses.fields(nn.Dense)}
  assert by_name['parent'].default is UNSPECIFIED_PARENT
  assert repr(UNSPECIFIED_PARENT) == '_unspecified_parent'


def test_sentinel_is_a_singleton_under_copy_and_pickle():
  assert copy.copy(UNSPECIFIED_PARENT) is UNSPECIFIED_PARENT
  assert copy.deepcopy(UNSPECIFIED_PARENT) is UNSPECIFIED_PARENT
  assert pickle.loads(pickle.dumps(UNSPECIFIED_PARENT)) is UNSPECIFIED_PARENT
  assert copy.deepcopy({'p': UNSPECIFIED_PARENT})['p'] is UNSPECIFIED_PARENT


def test_sentinel_is_resolved_from_the_module_stack():
  top = nn.Dense(3)
  assert top.parent is None  # nothing running: no parent
  parents = []

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      child = nn.Dense(2)
      parents.append(child.parent is self)
      return child(x)

  Outer().init(jax.random.key(0), jnp.ones((1, 2)))
  assert parents == [True]
  # an explicit parent=None detaches even inside a running module
  detached = []

  class Outer2(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = nn.Dense(2, parent=None)
      detached.append((d.parent, d.scope))
      return x

  Outer2().init(jax.random.key(0), jnp.ones((1, 2)))
  assert detached == [(None, None)]


def test_module_base_is_a_dataclass_transform():
  """Type checkers see Module subclasses as dataclasses (PEP 681 metadata on ModuleBase)."""
  from flaxen._src.linen.module import kw_only_dataclasses
  from flaxen._src.linen.module.base import module_field

  spec = ModuleBase.__dataclass_transform__
  assert set(spec['field_specifiers']) == {dataclasses.field, kw_only_dataclasses.field,
                                           module_field}
  f = module_field(kw_only=True, default=3)
  assert f.default == 3 and f.kw_only is True
  assert module_field(default=1).default == 1


@pytest.mark.slow
def test_constructor_calls_type_check(tmp_path, monkeypatch):
  """mypy accepts ``nn.Dense(3)`` and a user module's fields, and rejects wrong ones."""
  api = pytest.importorskip('mypy.api')
  import pathlib

  root = pathlib.Path(__file__).resolve().parents[3]
  monkeypatch.setenv('MYPYPATH', str(root))  # this checkout's flaxen, not an installed one
  snippet = tmp_path / 'snippet.py'
  snippet.write_text(
    'from flaxen import linen as nn\n'
    'class MLP(nn.Module):\n'
    '  features: int\n'
    '  rate: float = 0.1\n'
    'ok = [nn.Dense(3), nn.Dense(features=3, name="d"), MLP(3, name="m"), MLP(3, 0.5)]\n'
    'bad_type = MLP("three")\n'
    'bad_kw = MLP(3, nme="x")\n'
  )
  out, _, status = api.run([
    '--follow-imports=silent', '--ignore-missing-imports', '--no-error-summary',
    '--cache-dir', str(tmp_path / 'cache'), str(snippet),
  ])
  lines = [line for line in out.splitlines() if 'error' in line]
  assert status == 1 and len(lines) == 2, out
  assert ':6:' in lines[0] and ':7:' in lines[1]
