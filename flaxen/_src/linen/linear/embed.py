"""``Embed``: a lookup table of learned vectors, with ``attend`` for weight tying.

Invariants:
  * the table is the param ``embedding`` of shape ``(num_embeddings, features)``,
    created in ``setup`` (so ``init(..., method='attend')`` creates it too);
  * ``__call__`` accepts integer inputs only and returns
    ``inputs.shape + (features,)`` via ``jnp.take`` (out-of-range ids follow
    ``jnp.take``'s default fill mode, i.e. NaN rows);
  * ``attend(query)`` is ``query @ embedding.T`` (logits over the vocabulary).
"""

from __future__ import annotations

import jax.numpy as jnp

from flaxen._src.linen import initializers
from flaxen._src.linen._layer_utils import input_hint, layer_error
from flaxen._src.linen.dtypes import as_array, promote_dtype
from flaxen._src.linen.module.module import Module
from flaxen._src.public import set_module
from flaxen._src.typing import Array, Dtype, Initializer, PromoteDtypeFn

__all__ = ['Embed', 'default_embed_init']

default_embed_init = initializers.variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)


@set_module('flaxen.linen.linear')
class Embed(Module):
  """Embedding lookup: integer ids → learned ``features``-dimensional vectors.

  Attributes:
    num_embeddings: number of rows of the table (vocabulary size).
    features: size of each vector.
    dtype: computation dtype (default: the table's dtype).
    param_dtype: dtype of the table (default float32).
    embedding_init: initializer of the table.
    promote_dtype: dtype-promotion function.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen import linen as nn
    >>> layer = nn.Embed(num_embeddings=10, features=4)
    >>> variables = layer.init(jax.random.PRNGKey(0), jnp.array([[1, 2]]))
    >>> layer.apply(variables, jnp.array([[1, 2]])).shape
    (1, 2, 4)
  """

  num_embeddings: int
  features: int
  dtype: Dtype | None = None
  param_dtype: Dtype = jnp.float32
  embedding_init: Initializer = default_embed_init
  promote_dtype: PromoteDtypeFn = promote_dtype

  def setup(self):
    self.embedding = self.param('embedding', self.embedding_init,
                                (self.num_embeddings, self.features), self.param_dtype)

  def __call__(self, inputs: Array) -> Array:
    """Looks up the vectors of ``inputs``.

    Args:
      inputs: integer array of ids.

    Returns:
      Array of shape ``inputs.shape + (features,)``.

    Raises:
      ValueError: if ``inputs`` is not an integer array.
    """
    inputs = as_array(inputs)
    if not jnp.issubdtype(inputs.dtype, jnp.integer):
      raise layer_error(self, 'Input type must be an integer or unsigned integer.',
                        hint=f'got {inputs.dtype}')
    (embedding,) = self.promote_dtype(self.embedding, dtype=self.dtype, inexact=False)
    if self.num_embeddings == 1:
      return jnp.broadcast_to(embedding, inputs.shape + (self.features,))
    return jnp.take(embedding, inputs, axis=0)

  def attend(self, query: Array) -> Array:
    """Scores ``query`` against every embedding: ``query @ embedding.T``.

    Args:
      query: array of shape ``(..., features)``.

    Returns:
      Array of shape ``(..., num_embeddings)``.
    """
    query = as_array(query)
    problem = None
    if query.ndim == 0 or query.shape[-1] != self.features:
      problem = f'attend expects a query of shape (..., {self.features}), got {query.shape}'
    query, embedding = self.promote_dtype(query, self.embedding, dtype=self.dtype)
    with input_hint(self, problem):
      return jnp.dot(query, embedding.T)
