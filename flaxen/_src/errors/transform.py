"""Errors of the lifted transforms (``nn.vmap``, ``nn.scan``, ``nn.jit``, ...)."""

from __future__ import annotations

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


@set_module('flaxen.errors')
class PartitioningUnspecifiedError(FlaxError, ValueError):
  """A transform adds an axis to a ``Partitioned`` variable without a name for it.

  ``nn.vmap``/``nn.scan`` over partitioned variables must say how the new axis
  is sharded: pass ``metadata_params={nn.PARTITION_NAME: 'layers'}`` (or
  ``None`` for an unsharded axis).

  Args:
    target: the partitioned value.
  """

  def __init__(self, target):
    self.target = target
    super().__init__(
      'Trying to transform a Partitioned variable but "partition_name" is not specified in '
      f'metadata_params: {target}'
    )


@set_module('flaxen.errors')
class TransformTargetError(FlaxError, TypeError):
  """A lifted transform was applied to a Module instance or a non-callable.

  Linen transforms take a Module *class* (``nn.vmap(nn.Dense, ...)``) or a
  function whose first argument is a module.

  Args:
    target: what was given.
  """

  def __init__(self, target):
    self.target = target
    super().__init__(
      'Linen transformations must be applied to Modules classes or functions taking a Module '
      'instance as the first argument. The provided target is not a Module class or '
      f'callable: {target}'
    )


@set_module('flaxen.errors')
class TransformedMethodReturnValueError(FlaxError, TypeError):
  """A transformed module method returned Modules or Variables.

  Values crossing a lifted transform must be JAX types; return arrays (or
  pytrees of arrays) instead of modules or ``Variable`` objects.

  Args:
    name: the method name.
  """

  def __init__(self, name):
    self.name = name
    super().__init__(f'Transformed module method {name} cannot return Modules or Variables.')


@set_module('flaxen.errors')
class TraceContextError(FlaxError, RuntimeError):
  """State was changed from inside a JAX trace it does not belong to.

  The reference raises this for NNX objects updated under a different trace
  level (flaxen has no NNX; Linen code hits ``JaxTransformError`` or a JAX
  tracer leak instead). The class exists so that ``except
  errors.TraceContextError`` keeps working. Pass state in and out of the
  transform explicitly instead of mutating it from inside.

  Args:
    message: what was changed where.
  """
