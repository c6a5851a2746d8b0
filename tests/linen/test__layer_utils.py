"""flaxen._src.linen._layer_utils: layer identity in errors, JAX-error notes, axis handling.

Behaviour is checked through the public layers that use the helpers; the pure
helpers (``canonicalize_tuple``, the axis functions, ``reshape_init``,
``module_path``) also directly.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.linen import _layer_utils as lu

KEY = jax.random.key(0)


class Encoder(nn.Module):
  """Puts ``make()`` at ``/enc/<name>`` so error messages must show a nested path."""

  make: object

  @nn.compact
  def __call__(self, x):
    return Block(self.make, name='enc')(x)


class Block(nn.Module):
  make: object

  @nn.compact
  def __call__(self, x):
    return self.make()(x)


@pytest.mark.parametrize('make,x,cls,prefix,reference_text', [
  (lambda: nn.DenseGeneral(3, axis=5, name='proj'), jnp.ones((2, 4)), IndexError,
   'DenseGeneral "/enc/proj": ', 'tuple index out of range'),
  (lambda: nn.LayerNorm(reduction_axes=(1, 2)), jnp.ones((2, 4)), IndexError,
   'LayerNorm "/enc/LayerNorm_0": ', 'tuple index out of range'),
  (lambda: nn.Dense(3), jnp.ones(()), IndexError,
   'Dense "/enc/Dense_0": ', 'tuple index out of range'),
  (lambda: nn.GroupNorm(num_groups=3), jnp.ones((2, 4)), ValueError,
   'GroupNorm "/enc/GroupNorm_0": ',
   'Number of groups (3) does not divide the number of channels (4).'),
])
def test_layer_errors_keep_reference_class_and_text_behind_the_path(make, x, cls, prefix,
                                                                    reference_text):
  with pytest.raises(cls) as info:
    Encoder(make).init(KEY, x)
  assert type(info.value) is cls
  assert str(info.value).startswith(prefix + reference_text)


def test_top_level_layer_path_is_root():
  with pytest.raises(IndexError, match=r'^DenseGeneral "/": tuple index out of range'):
    nn.DenseGeneral(3, axis=2).init(KEY, jnp.ones((2, 4)))


def test_negative_axes_are_shifted_once_like_the_reference():
  # -rank-1 stays negative after one shift and then indexes from the end: LayerNorm
  # accepts it as the last axis; DenseGeneral hands it to dot_general, which refuses.
  x = jnp.arange(24.).reshape(2, 3, 4)
  ln = nn.LayerNorm(reduction_axes=-4, feature_axes=-4)
  np.testing.assert_array_equal(ln.init_with_output(KEY, x)[0],
                                nn.LayerNorm().init_with_output(KEY, x)[0])
  with pytest.raises(TypeError, match='dot_general requires lhs dimension numbers'):
    nn.DenseGeneral(3, axis=-4).init(KEY, x)


def test_axis_helpers():
  assert lu.shift_negative_axes(3, (-1, 0)) == [2, 0]
  assert lu.shift_negative_axes(3, -4) == [-1]
  assert lu.sorted_axes(4, (-1, 1, 1)) == (1, 1, 3)
  assert lu.canonicalize_axes(4, (-1, 3, 1)) == (1, 3)
  mdl = nn.Dense(3, name='head')
  lu.check_axes_index(mdl, (2, 3), (-2, 1), 'axis')
  with pytest.raises(IndexError, match=r'^Dense "/head": tuple index out of range \(axis'):
    lu.check_axes_index(mdl, (2, 3), (2,), 'axis')


def test_canonicalize_tuple_keeps_items():
  assert lu.canonicalize_tuple(3) == (3,)
  assert lu.canonicalize_tuple([1, 2]) == (1, 2)
  items = lu.canonicalize_tuple(np.array([4, 5]))
  assert items == (4, 5) and all(isinstance(v, np.integer) for v in items)


def test_module_path_and_layer_error():
  mdl = nn.Dense(3, name='head')
  assert lu.module_path(mdl) == '/head'
  assert lu.module_path(nn.Dense(3)) == '/'
  err = lu.layer_error(mdl, 'bad', TypeError)
  assert type(err) is TypeError and str(err) == 'Dense "/head": bad'
  err = lu.layer_error(mdl, 'bad', hint='fix it')
  assert type(err) is ValueError and str(err) == 'Dense "/head": bad (fix it)'


def test_bad_layer_input_is_an_assertion_and_a_value_error():
  assert issubclass(lu.BadLayerInput, AssertionError)
  assert issubclass(lu.BadLayerInput, ValueError)


def test_input_hint_notes_jax_errors_without_changing_them():
  mdl = nn.Conv(2, (3, 3), name='c')
  with pytest.raises(ZeroDivisionError) as info:
    with lu.input_hint(mdl, 'the input has no batch axis'):
      1 // 0  # noqa: B018
  assert str(info.value) == 'integer division or modulo by zero'
  assert info.value.__notes__ == ['Conv "/c": the input has no batch axis']
  with pytest.raises(KeyError) as info:
    with lu.input_hint(mdl, None):
      {}['x']  # noqa: B018
  assert not getattr(info.value, '__notes__', [])


def test_reshape_init_uses_flat_fan_and_keeps_boxes():
  init = nn.initializers.lecun_normal()
  flat = init(KEY, (6, 5))
  shaped = lu.reshape_init(init, (6, 5))(KEY, (2, 3, 5))
  assert shaped.shape == (2, 3, 5)
  np.testing.assert_array_equal(shaped.reshape(6, 5), flat)
  boxed_init = nn.with_partitioning(init, ('a', 'b', 'c'))
  boxed = lu.reshape_init(boxed_init, (6, 5))(KEY, (2, 3, 5), jnp.float32)
  assert isinstance(boxed, nn.Partitioned) and boxed.names == ('a', 'b', 'c')
  assert boxed.value.shape == (2, 3, 5)
  np.testing.assert_array_equal(boxed.value.reshape(6, 5), flat)


def test_reshape_init_wrappers_compare_equal_so_shape_checks_are_cached():
  calls = []

  def counting_init(key, shape, dtype=jnp.float32):
    calls.append(shape)
    return jnp.zeros(shape, dtype)

  assert lu.reshape_init(counting_init, (6, 5)) == lu.reshape_init(counting_init, (6, 5))
  assert hash(lu.reshape_init(counting_init, (6, 5))) == hash(
    lu.reshape_init(counting_init, (6, 5)))
  layer = nn.DenseGeneral((2, 3), kernel_init=counting_init)
  x = jnp.ones((4, 5))
  variables = layer.init(KEY, x)
  layer.apply(variables, x)
  after_first_apply = len(calls)
  for _ in range(3):
    layer.apply(variables, x)
  assert len(calls) == after_first_apply  # the initializer is not traced again
