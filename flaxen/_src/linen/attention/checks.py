"""Input validation shared by the attention and recurrent layers.

The reference validates layer inputs with bare ``assert`` statements (so user
code may catch ``AssertionError``) and with ``ValueError`` in a few places.
flaxen raises ``BadAttentionInput`` / ``BadLayerInput``, which derive from both
``ValueError`` and ``AssertionError``: existing ``except`` clauses of either
kind keep working, the check also runs under ``python -O``, and the message
names the layer's module path and what was expected.
"""

from __future__ import annotations

from typing import Any

from flaxen._src.linen._layer_utils import describe


class BadLayerInput(ValueError, AssertionError):
  """A layer received inputs of the wrong rank, shape or configuration."""


class BadAttentionInput(BadLayerInput):
  """Attention functions/layers received inconsistent query/key/value/mask inputs."""


def module_where(module: Any) -> str:
  """Describes ``module`` for an error message: ``'<ClassName> "<path>"'``.

  Same format as the other layers' errors (``_layer_utils.describe``); an
  unbound module is described by its class and name.
  """
  return describe(module)
