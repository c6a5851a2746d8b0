"""The CLI's models: the built-in ones, and a user's own as package.module:attr."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.cli.models import MODELS, ModelError, load_model, make_model


def count(model, shape):
  variables = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.ones((1, *shape)))
  return sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(variables)), variables


def test_cnn_matches_the_quickstart_table():
  total, variables = count(make_model('cnn'), (28, 28, 1))
  assert total == 824_458  # the Quickstart's "Total Parameters: 824,458"
  assert variables['params']['Dense_0']['kernel'].shape == (3136, 256)
  assert count(make_model('cnn'), (8, 8, 1))[0] == 87_178


def test_mlp_and_num_classes():
  total, variables = count(make_model('mlp', num_classes=3), (8, 8, 1))
  assert total == 64 * 128 + 128 + 128 * 3 + 3
  out = jax.eval_shape(lambda: make_model('mlp', 3).init_with_output(
    jax.random.PRNGKey(0), jnp.ones((5, 8, 8, 1)))[0])
  assert out.shape == (5, 3)


def test_unknown_model():
  with pytest.raises(ModelError, match=r"unknown model 'resnet': choose one of \['cnn', 'mlp'\] "
                                      'or name your own as package.module:attr'):
    load_model('resnet')
  assert sorted(MODELS) == ['cnn', 'mlp']


USER_MODULE = """
from flaxen import linen as nn

class Net(nn.Module):
  num_classes: int = 10
  width: int = 4

  @nn.compact
  def __call__(self, x, train: bool = False):
    x = nn.Dense(self.width)(x.reshape((x.shape[0], -1)))
    x = nn.BatchNorm(use_running_average=not train)(x)
    return nn.Dense(self.num_classes)(nn.Dropout(0.1, deterministic=not train)(x))

class Needs(nn.Module):
  size: int

def factory():
  return Net(num_classes=5)

instance = Net(num_classes=2, width=3)
not_a_model = 42

class Zoo:
  small = Net
"""


@pytest.fixture
def user_module(tmp_path, monkeypatch):
  (tmp_path / 'my_models.py').write_text(USER_MODULE)
  (tmp_path / 'broken_models.py').write_text('raise RuntimeError("oops")\n')
  monkeypatch.chdir(tmp_path)
  monkeypatch.syspath_prepend(str(tmp_path))
  yield
  for name in ('my_models', 'broken_models'):
    sys.modules.pop(name, None)


def test_load_user_models(user_module):
  net = load_model('my_models:Net', num_classes=7)
  assert isinstance(net, nn.Module) and net.num_classes == 7  # its num_classes field is filled
  assert load_model('my_models:Net', 7, {'width': 9}).width == 9
  assert load_model('my_models:factory').num_classes == 5
  assert load_model('my_models:instance').width == 3
  assert load_model('my_models:instance', 10, {'width': 6}).width == 6
  assert load_model('my_models:Zoo.small', 3).num_classes == 3
  assert load_model('mlp', 4, {'hidden': 16}).hidden == 16


@pytest.mark.parametrize('spec,match', [
  ('nowhere_xyz:Net', "--model nowhere_xyz:Net: cannot import nowhere_xyz"),
  ('my_models:Missing', "my_models has no attribute 'Missing'"),
  ('my_models:not_a_model', 'int is not a Module class, instance or factory'),
  ('my_models:Needs', r"calling it with no arguments raised TypeError: .*'size'"),
  ('broken_models:Net', 'importing broken_models raised RuntimeError: oops'),
  ('my_models:', 'expected package.module:attr'),
])
def test_user_model_errors(user_module, spec, match):
  with pytest.raises(ModelError, match=match):
    load_model(spec)
