"""flaxen._src.errors.transform: errors of the lifted transforms, raised by real misuse."""

import pickle

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'
KEY = jax.random.key(0)
NAMES = ('PartitioningUnspecifiedError', 'TransformTargetError',
         'TransformedMethodReturnValueError')


@pytest.mark.parametrize('name', NAMES)
def test_public_module_path(name):
  cls = getattr(errors, name)
  assert cls.__module__ == 'flaxen.errors' and issubclass(cls, errors.FlaxError)


def test_messages_attributes_and_pickle():
  err = errors.TransformTargetError('not-callable')
  assert err.target == 'not-callable'
  assert str(err).endswith(f'callable: not-callable ({URL}TransformTargetError)')
  err = errors.TransformedMethodReturnValueError('encode')
  assert err.name == 'encode'
  assert err.message == 'Transformed module method encode cannot return Modules or Variables.'
  err = errors.PartitioningUnspecifiedError(('x', 'y'))
  assert err.target == ('x', 'y')
  assert err.message.endswith("metadata_params: ('x', 'y')")
  assert '"partition_name"' in err.message
  for e in (errors.TransformTargetError(7), errors.TransformedMethodReturnValueError('m'),
            errors.PartitioningUnspecifiedError('t')):
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is type(e) and vars(back) == vars(e) and str(back) == str(e)


@pytest.mark.parametrize('transform', [nn.vmap, nn.jit, nn.remat])
def test_transform_target_error_for_module_instance(transform):
  instance = nn.Dense(3)
  with pytest.raises(errors.TransformTargetError) as info:
    transform(instance)
  assert info.value.target is instance
  assert isinstance(info.value, TypeError)


def test_transform_target_error_for_non_callable():
  with pytest.raises(errors.TransformTargetError) as info:
    nn.jit(5)
  assert info.value.target == 5


def test_transforming_the_class_or_a_function_works():
  class BatchDense(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.vmap(lambda mdl, x: mdl(x), variable_axes={'params': 0},
                     split_rngs={'params': True})(nn.Dense(3), x)

  v = jax.eval_shape(BatchDense().init, KEY, jnp.ones((4, 2)))
  assert v['params']['Dense_0']['kernel'].shape == (4, 2, 3)
  batched = nn.vmap(nn.Dense, variable_axes={'params': 0}, split_rngs={'params': True})(3)
  v = jax.eval_shape(batched.init, KEY, jnp.ones((5, 2)))
  assert v['params']['kernel'].shape == (5, 2, 3)


def test_transformed_method_returning_a_module():
  class ReturnsModule(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)

  class Wrapper(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.jit(ReturnsModule)()(x)

  with pytest.raises(errors.TransformedMethodReturnValueError) as info:
    Wrapper().init(KEY, jnp.ones((1, 2)))
  assert info.value.name == '__call__'


class Scaled(nn.Module):
  @nn.compact
  def __call__(self, x):
    k = self.param('k', nn.with_partitioning(nn.initializers.ones, ('feat',)), (x.shape[-1],))
    return x * k


def _vmapped(**metadata):
  class Stack(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.vmap(Scaled, variable_axes={'params': 0}, split_rngs={'params': True},
                     **metadata)(name='s')(x)

  return Stack()


def test_partitioning_unspecified_error():
  with pytest.raises(errors.PartitioningUnspecifiedError) as info:
    _vmapped().init(KEY, jnp.ones((4, 3)))
  assert isinstance(info.value.target, nn.Partitioned)
  assert info.value.target.names == ('feat',)
  v = _vmapped(metadata_params={nn.PARTITION_NAME: 'layers'}).init(KEY, jnp.ones((4, 3)))
  assert v['params']['s']['k'].names == ('layers', 'feat')
