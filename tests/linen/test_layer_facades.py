"""The layer façades re-export what the reference's modules expose to client code.

Client code imports type aliases and helpers from the layer modules
(``from flax.linen.linear import PrecisionLike, default_kernel_init``); after the
import change those paths must exist in flaxen and be the same objects as the
public ones (``flaxen.typing``, ``flaxen.linen``).
"""

import importlib

import pytest

from flaxen import linen as nn
from flaxen import typing

ALIASES = {
  'flaxen.linen.linear': 'Array ConvGeneralDilatedT DotGeneralT Dtype Initializer LaxPadding '
                         'PRNGKey PaddingLike PrecisionLike PromoteDtypeFn Shape',
  'flaxen.linen.attention': 'Array DotGeneralT Dtype Initializer PRNGKey PrecisionLike Shape',
  'flaxen.linen.normalization': 'Array Axes Dtype Initializer PRNGKey Shape',
  'flaxen.linen.recurrent': 'Array Dtype Initializer InOutScanAxis PRNGKey PrecisionLike',
  'flaxen.linen.activation': 'Array Dtype',
  'flaxen.linen.dtypes': 'Dtype',
  'flaxen.linen.stochastic': 'PRNGKey',
}

HELPERS = {
  'flaxen.linen.linear': 'Module compact promote_dtype',
  'flaxen.linen.attention': 'DenseGeneral LayerNorm Module compact merge_param promote_dtype',
  'flaxen.linen.normalization': 'Module compact merge_param canonicalize_dtype map_variables',
  'flaxen.linen.recurrent': 'Conv Dense Module compact nowrap promote_dtype sigmoid tanh',
  'flaxen.linen.activation': 'Dense Module compact',
  'flaxen.linen.combinators': 'Module compact',
  'flaxen.linen.stochastic': 'Module compact merge_param',
}


@pytest.mark.parametrize('module', sorted(ALIASES))
def test_type_aliases_are_flaxen_typing(module):
  mod = importlib.import_module(module)
  for name in ALIASES[module].split():
    assert getattr(mod, name) is getattr(typing, name), f'{module}.{name}'


@pytest.mark.parametrize('module', sorted(HELPERS))
def test_helpers_are_the_public_objects(module):
  mod = importlib.import_module(module)
  for name in HELPERS[module].split():
    public = getattr(nn, name, None) or getattr(nn.dtypes, name)
    assert getattr(mod, name) is public, f'{module}.{name}'


def test_module_specific_names():
  from flaxen.linen import attention, linear, recurrent

  assert linear.default_kernel_init is attention.default_kernel_init
  assert recurrent.default_kernel_init is linear.default_kernel_init
  assert linear.default_embed_init is not None
  assert linear.initializers is nn.initializers
  for name in ('Carry', 'CarryHistory', 'Output', 'RNNBase', 'DenseParams', 'flip_sequences'):
    assert hasattr(recurrent, name), name
  assert recurrent.DenseParams.__module__ == 'flaxen.linen.recurrent'
  assert nn.dtypes.T.__bound__ is tuple


def test_batch_apply_module_path():
  mod = importlib.import_module('flaxen.linen.batch_apply')
  assert mod.BatchApply is nn.BatchApply
  for name in ('arbitrary_mergeable_leaf', 'merge_leading_dims', 'ndim_at_least',
               'split_leading_dim'):
    assert callable(getattr(mod, name)), name
