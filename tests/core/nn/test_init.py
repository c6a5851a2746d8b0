"""The public surface of flaxen.core.nn and its submodules matches the reference's."""

import importlib

import pytest

SURFACE = {
  "flaxen.core.nn": """
    Embedding activation attention avg_pool batch_norm celu conv conv_transpose dense
    dense_general dot_product_attention dropout elu embedding gelu glu group_norm initializers
    layer_norm leaky_relu linear log_sigmoid log_softmax max_pool
    multi_head_dot_product_attention normalization relu sigmoid silu soft_sign softmax
    softplus stochastic swish tanh
  """.split(),
  "flaxen.core.nn.linear": """
    Embedding Scope conv conv_transpose default_embed_init default_kernel_init dense
    dense_general embedding initializers
  """.split(),
  "flaxen.core.nn.attention": """
    CacheEntry Scope default_kernel_init dense_general dot_product_attention initializers
    make_padding_mask multi_head_dot_product_attention
  """.split(),
  "flaxen.core.nn.normalization": "Scope batch_norm group_norm initializers layer_norm".split(),
  "flaxen.core.nn.stochastic": ["dropout"],
}


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_public_names(module):
  mod = importlib.import_module(module)
  assert [n for n in SURFACE[module] if not hasattr(mod, n)] == []


def test_shared_objects_are_linen_s():
  from flaxen import linen
  from flaxen.core import Scope, nn

  assert nn.initializers is linen.initializers
  assert nn.activation is linen.activation
  assert nn.relu is linen.relu and nn.max_pool is linen.max_pool
  assert nn.linear.Scope is Scope
  assert nn.dense is nn.linear.dense and nn.dropout is nn.stochastic.dropout


def test_public_module_names():
  from flaxen.core import nn

  assert nn.dense.__module__ == "flaxen.core.nn.linear"
  assert nn.Embedding.__module__ == "flaxen.core.nn.linear"
  assert nn.batch_norm.__module__ == "flaxen.core.nn.normalization"
  assert nn.attention.CacheEntry.__module__ == "flaxen.core.nn.attention"
  assert nn.dropout.__module__ == "flaxen.core.nn.stochastic"
