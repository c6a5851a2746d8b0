"""Sequential (chaining, naming, tuple/dict passing, errors) and BatchApply."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def test_sequential_names_and_values():
  model = nn.Sequential([nn.Dense(4), nn.relu, nn.Dense(2)])
  x = jnp.ones((3, 5))
  variables = model.init(KEY, x)
  assert list(variables['params']) == ['layers_0', 'layers_2']
  p = jax.tree_util.tree_map(np.asarray, variables['params'])
  h = np.maximum(np.asarray(x) @ p['layers_0']['kernel'] + p['layers_0']['bias'], 0)
  np.testing.assert_allclose(model.apply(variables, x),
                             h @ p['layers_2']['kernel'] + p['layers_2']['bias'],
                             rtol=1e-5, atol=1e-6)


def test_sequential_tuple_and_dict_outputs():
  model = nn.Sequential([
    lambda x: (x, 2 * x),
    lambda a, b: {'a': a, 'b': b},
    lambda a, b: a + b,
  ])
  np.testing.assert_allclose(model.apply({}, jnp.ones(2)), 3 * np.ones(2))


def test_sequential_passes_kwargs_to_first_layer():
  model = nn.Sequential([nn.Dropout(0.5), nn.Dense(2)])
  variables = model.init(KEY, jnp.ones((1, 3)), deterministic=True)
  assert list(variables['params']) == ['layers_1']


@pytest.mark.parametrize('name', [None, 'foo'])
def test_empty_sequential_carries_the_reference_text(name):
  with pytest.raises(ValueError) as info:
    nn.Sequential([], name=name).init(KEY, jnp.ones(2))
  # the root module's path is '/', whatever its name
  assert str(info.value).startswith(f'Sequential "/": Empty Sequential module {name}.')


def test_layers_must_be_a_sequence():
  with pytest.raises(ValueError, match="'layers' must be a sequence, got 'Dense'."):
    nn.Sequential(nn.Dense(2))


def test_only_plain_dicts_are_splatted_as_keywords():
  # a FrozenDict output is handed over as one argument, as in the reference
  frozen = nn.Sequential([lambda x: nn.FrozenDict({'y': x}), lambda d: d['y'] * 2])
  np.testing.assert_array_equal(frozen.init_with_output(KEY, jnp.ones(2))[0], 2 * np.ones(2))
  plain = nn.Sequential([lambda x: {'y': x}, lambda y: y * 3])
  np.testing.assert_array_equal(plain.init_with_output(KEY, jnp.ones(2))[0], 3 * np.ones(2))
