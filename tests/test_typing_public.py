"""Users' code type-checks against flaxen: mypy accepts a typical program and rejects wrong calls.

One mypy run checks two files written to a temporary directory, with flaxen found through
``MYPYPATH`` (this checkout, not an installed copy) and ``--follow-imports=silent`` (as for an
installed package, only the user's own files are reported):

* ``user_program.py`` uses the public API the way a training script does (layers, a Module
  subclass with fields and ``@nn.compact``, ``setup``, ``nn.scan`` / ``nn.jit``,
  ``struct.dataclass`` / ``PyTreeNode``, ``TrainState``, ``serialization``, ``checkpoints``):
  mypy must report nothing in it; the program also runs.
* ``wrong_program.py`` holds calls that are wrong for a type checker and must each be
  reported on their own line: that shows that flaxen's types reach the user (a flaxen that
  mypy could not read would make every name ``Any`` and let all of them through).

The field checks of ``struct.dataclass`` and of Module subclasses have their own mypy tests
(tests/tree/test_struct.py, tests/linen/module/test_base.py); this file covers the rest of the
surface a user program touches.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip('mypy')

pytestmark = pytest.mark.slow  # one cold mypy run over flaxen and jax: ~15 s on 2 cores

ROOT = pathlib.Path(__file__).resolve().parents[1]

USER_PROGRAM = '''\
"""A small training script written against flaxen's public API."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax  # type: ignore[import-untyped, unused-ignore]  # optax ships no annotations

from flaxen import linen as nn
from flaxen import serialization, struct
from flaxen.training import checkpoints, train_state
from flaxen.typing import Array, Initializer


class MLP(nn.Module):
  hidden: int
  out: int = 2
  act: Callable[[Array], Array] = nn.relu
  kernel_init: Initializer = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x: Array, *, train: bool = False) -> Array:
    x = self.act(nn.Dense(self.hidden, kernel_init=self.kernel_init)(x))
    x = nn.Dropout(rate=0.1, deterministic=not train)(x)
    return nn.Dense(features=self.out, use_bias=False, name='head')(x)


class WithSetup(nn.Module):
  features: int

  def setup(self) -> None:
    self.proj = nn.Dense(self.features)

  def __call__(self, x: Array) -> Array:
    return self.proj(x)


class Block(nn.Module):
  @nn.compact
  def __call__(self, carry: Array, x: Array) -> tuple[Array, Array]:
    h = nn.Dense(carry.shape[-1])(carry) + x
    return h, h


class Stack(nn.Module):
  @nn.compact
  def __call__(self, xs: Array) -> Array:
    scanned = nn.scan(Block, variable_broadcast='params', split_rngs={'params': False},
                      in_axes=0, out_axes=0)
    carry, _ = scanned(name='blocks')(jnp.zeros(xs.shape[1:]), xs)
    return nn.jit(nn.Dense)(3, name='fast')(carry)


@struct.dataclass
class Metrics:
  loss: float
  count: int = struct.field(pytree_node=False, default=0)


class Config(struct.PyTreeNode):
  lr: float
  name: str = struct.field(pytree_node=False, default='run')


class State(train_state.TrainState):
  best_loss: float = 1e9


def main() -> dict[str, Any]:
  key = jax.random.key(0)
  x = jnp.ones((4, 3))
  dense = nn.Dense(3)
  y = dense.apply(dense.init(key, x), x)
  wider: nn.Dense = dense.clone(features=5)

  model = MLP(hidden=8, out=2, name='mlp')
  variables = model.init({'params': key, 'dropout': key}, x)
  out = model.apply(variables, x, train=True, rngs={'dropout': key})
  bound: MLP = model.bind(variables)
  setup_vars = WithSetup(4).init(key, x)
  stack_vars = Stack().init(key, jnp.ones((5, 3)))

  metrics = Metrics(loss=1.0, count=2)
  config: Config = Config(lr=0.1).replace(lr=0.2)

  state = State.create(apply_fn=model.apply, params=variables['params'],
                       tx=optax.sgd(config.lr), best_loss=metrics.loss)
  grads = jax.tree_util.tree_map(jnp.zeros_like, state.params)
  state = state.apply_gradients(grads=grads)  # still a State
  best: float = state.best_loss
  data: bytes = serialization.to_bytes(state)
  restored = serialization.from_bytes(state, data)
  with tempfile.TemporaryDirectory() as tmp:
    ckpt_dir = os.path.join(tmp, 'ckpt')
    path: str = checkpoints.save_checkpoint(ckpt_dir, restored, step=1)
    loaded = checkpoints.restore_checkpoint(ckpt_dir, target=state)
  return {'y': y, 'out': out, 'wider': wider, 'bound': bound, 'setup': setup_vars,
          'stack': stack_vars, 'best': best, 'path': path, 'loaded': loaded}


if __name__ == '__main__':
  main()
'''

# each wrong line ends with ``# wrong``: mypy must report an error on every one of them
WRONG_PROGRAM = '''\
from typing import Any

from flaxen import linen as nn
from flaxen import serialization
from flaxen.training import checkpoints, train_state


def apply_fn(*args: Any, **kwargs: Any) -> Any:
  return None


layer = nn.Dense(features='x', foo=1)  # wrong
conv = nn.Conv(features=4, kernel_size=3, padding=0.5)  # wrong
count: int = nn.Dense(3).clone(features=4)  # wrong
state = train_state.TrainState.create(apply_fn=apply_fn, params={})  # wrong
blob: str = serialization.to_bytes({})  # wrong
checkpoints.save_checkpoint(3, {}, step=1)  # wrong
'''


def _write(directory: pathlib.Path, name: str, text: str) -> pathlib.Path:
  path = directory / name
  path.write_text(text)
  return path


@pytest.fixture(scope='module')
def mypy_run(tmp_path_factory):
  """``(directory, {file name: [(line, message), ...]}, full output)`` of one mypy run."""
  work = tmp_path_factory.mktemp('typing_public')
  files = [_write(work, 'user_program.py', USER_PROGRAM),
           _write(work, 'wrong_program.py', WRONG_PROGRAM)]
  out = subprocess.run(
    [sys.executable, '-m', 'mypy', '--follow-imports=silent', '--show-error-codes',
     '--no-error-summary', '--cache-dir', str(work / 'cache'), *map(str, files)],
    capture_output=True, text=True, timeout=600, cwd=work,
    env={**os.environ, 'MYPYPATH': str(ROOT)},
  )
  errors: dict[str, list[tuple[int, str]]] = {f.name: [] for f in files}
  for line in out.stdout.splitlines():
    m = re.match(r'(?:.*[/\\])?([\w.]+):(\d+): error: (.*)$', line)
    if m:
      errors.setdefault(m[1], []).append((int(m[2]), m[3]))
  assert out.returncode in (0, 1), out.stdout + out.stderr  # 2 would be a crash or bad usage
  return work, errors, out.stdout


def test_a_typical_user_program_type_checks(mypy_run):
  _, errors, output = mypy_run
  assert errors['user_program.py'] == [], output


def test_the_type_checked_program_also_runs(mypy_run, monkeypatch):
  work, _, _ = mypy_run
  spec = importlib.util.spec_from_file_location('flaxen_user_program', work / 'user_program.py')
  program = importlib.util.module_from_spec(spec)
  monkeypatch.setitem(sys.modules, spec.name, program)  # dataclasses look their module up
  spec.loader.exec_module(program)
  result = program.main()
  assert result['wider'].features == 5 and isinstance(result['bound'], program.MLP)
  assert result['y'].shape == (4, 3) and result['out'].shape == (4, 2)
  assert result['best'] == 1.0  # State.create took the subclass field; apply_gradients kept it
  assert int(result['loaded'].step) == 1


def test_every_wrong_call_is_reported_on_its_line(mypy_run):
  _, errors, output = mypy_run
  wrong_lines = {i for i, text in enumerate(WRONG_PROGRAM.splitlines(), 1) if text.endswith('# wrong')}
  assert len(wrong_lines) == 6
  assert {line for line, _ in errors['wrong_program.py']} == wrong_lines, output


def test_dense_rejects_a_wrong_field_type_and_an_unknown_field(mypy_run):
  _, errors, output = mypy_run
  line = next(i for i, text in enumerate(WRONG_PROGRAM.splitlines(), 1)
              if text.startswith('layer = nn.Dense'))
  messages = sorted(msg for at, msg in errors['wrong_program.py'] if at == line)
  assert messages == [
    'Argument "features" to "Dense" has incompatible type "str"; expected "int"  [arg-type]',
    'Unexpected keyword argument "foo" for "Dense"  [call-arg]',
  ], output


def test_clone_keeps_the_layer_class_and_create_needs_tx(mypy_run):
  _, errors, output = mypy_run
  found = dict(errors['wrong_program.py'])
  lines = WRONG_PROGRAM.splitlines()
  clone_line = next(i for i, t in enumerate(lines, 1) if t.startswith('count: int'))
  create_line = next(i for i, t in enumerate(lines, 1) if t.startswith('state ='))
  assert 'expression has type "Dense", variable has type "int"' in found[clone_line], output
  assert 'Missing named argument "tx"' in found[create_line], output
