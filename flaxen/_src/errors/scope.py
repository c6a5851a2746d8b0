"""Errors of the functional core: variables, collections, RNG streams and scopes.

Messages name the variable, the collection and the scope path involved so the
user can find the offending layer without a debugger.
"""

from __future__ import annotations

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


@set_module('flaxen.errors')
class ApplyScopeInvalidVariablesTypeError(FlaxError, TypeError):
  """``apply`` received something other than a dict of collections.

  The first argument of ``apply`` must map collection names (``'params'``,
  ``'batch_stats'``, ...) to dicts with string keys, as returned by ``init``.
  Passing a bare array or a list is a common slip.
  """

  def __init__(self):
    super().__init__(
      'The first argument passed to an apply function should be a dictionary of collections. '
      'Each collection should be a dictionary with string keys.'
    )


@set_module('flaxen.errors')
class ApplyScopeInvalidVariablesStructureError(FlaxError, ValueError):
  """The variables passed to ``apply`` contain an extra ``params`` layer.

  ``init`` returns ``{'params': {...}}``; passing ``{'params': variables}`` wraps
  it once more and yields ``{'params': {'params': ...}}``. Pass the variables
  returned by ``init`` as they are, or ``{'params': variables['params']}``.

  Args:
    variables: the variables that were passed.
  """

  def __init__(self, variables):
    self.variables = variables
    super().__init__(
      'Expect the `variables` (first argument) passed to apply() to be a dict with the '
      'structure {"params": ...}, but got a dict with an extra params layer, i.e.  '
      '{"params": {"params": ... } }. You should instead pass in your dict\'s ["params"].'
    )


@set_module('flaxen.errors')
class InvalidFilterError(FlaxError, TypeError):
  """A collection or RNG filter has an unsupported type.

  Filters may be ``True``/``False``, a collection name (``str``), a container of
  filters (list, tuple, set) or a ``DenyList``.

  Args:
    filter_like: the offending filter.
  """

  def __init__(self, filter_like):
    self.filter_like = filter_like
    super().__init__(f'Invalid Filter: "{filter_like}"')


@set_module('flaxen.errors')
class InvalidRngError(FlaxError, ValueError):
  """An RNG stream is missing or the ``rngs`` argument is malformed.

  Raised when a layer calls ``make_rng('dropout')`` (for example) but no key was
  supplied for that stream, or when ``rngs`` is not a dict from stream names to
  PRNG keys. Pass ``rngs={'dropout': key}`` to ``init``/``apply``.

  Args:
    msg: the specific problem, e.g. which module needs which stream.
  """

  def __init__(self, msg):
    self.msg = msg
    super().__init__(msg)


@set_module('flaxen.errors')
class InvalidScopeError(FlaxError, RuntimeError):
  """A scope was used after it had been invalidated.

  Scopes created by ``Scope.temporary()`` (and the bound modules holding them)
  stop working when the context ends. Do not keep bound modules or scopes
  around after ``init``/``apply``/``bind`` returned; re-bind instead.

  Args:
    scope_name: the name of the stale scope.
  """

  def __init__(self, scope_name):
    self.scope_name = scope_name
    super().__init__(f'The scope "{scope_name}" is no longer valid.')


@set_module('flaxen.errors')
class ModifyScopeVariableError(FlaxError, ValueError):
  """A variable in an immutable collection was written to.

  ``apply`` treats every collection as immutable unless it is listed in
  ``mutable=``. BatchNorm in training mode, for example, needs
  ``mutable=['batch_stats']``.

  Args:
    col: the collection.
    variable_name: the variable.
    scope_path: the path of the module that tried the write.
  """

  def __init__(self, col, variable_name, scope_path):
    self.col = col
    self.variable_name = variable_name
    self.scope_path = scope_path
    super().__init__(
      f'Cannot update variable "{variable_name}" in "{scope_path}" because collection '
      f'"{col}" is immutable.'
    )


@set_module('flaxen.errors')
class ScopeCollectionNotFound(FlaxError, KeyError):
  """A variable was read from a collection that is empty or absent.

  Usually ``apply(params, x)`` was called instead of
  ``apply({'params': params}, x)``, or a state collection was neither passed in
  nor made mutable so it could be initialised.

  Args:
    col_name: the collection.
    var_name: the variable.
    scope_path: the path of the reading module.
  """

  def __init__(self, col_name, var_name, scope_path):
    self.col_name = col_name
    self.var_name = var_name
    self.scope_path = scope_path
    super().__init__(
      f'Tried to access "{var_name}" from collection "{col_name}" in "{scope_path}" but the '
      'collection is empty.'
    )


@set_module('flaxen.errors')
class ScopeParamNotFoundError(FlaxError, KeyError):
  """A parameter requested at apply time does not exist in ``params``.

  The module asks for a parameter name that ``init`` did not create (renamed
  attribute, different submodule structure, or parameters from another model).
  Re-initialise or fix the name.

  Args:
    param_name: the missing parameter.
    scope_path: the path of the module.
  """

  def __init__(self, param_name, scope_path):
    self.param_name = param_name
    self.scope_path = scope_path
    super().__init__(f'Could not find parameter named "{param_name}" in scope "{scope_path}".')


@set_module('flaxen.errors')
class ScopeParamShapeError(FlaxError, ValueError):
  """A stored parameter's shape differs from the shape its initializer gives now.

  Typically the input shape changed between ``init`` and ``apply`` (e.g. a
  ``Dense`` kernel was built for 3 input features and now sees 4).

  Args:
    param_name: the parameter.
    scope_path: the path of the module.
    value_shape: the shape of the parameter found in the variables.
    init_shape: the shape the initializer produces for the current inputs.
  """

  def __init__(self, param_name, scope_path, value_shape, init_shape):
    self.param_name = param_name
    self.scope_path = scope_path
    self.value_shape = value_shape
    self.init_shape = init_shape
    where = f'For parameter "{param_name}" in "{scope_path}"'
    super().__init__(
      f'{where}, the given initializer is expected to generate shape {init_shape}, '
      f'but the existing parameter it received has shape {value_shape}. The inputs '
      'probably have another shape than at init time: feed the shape used at init, '
      'or initialise again.'
    )


@set_module('flaxen.errors')
class ScopeVariableNotFoundError(FlaxError, KeyError):
  """A non-parameter variable is missing and cannot be created.

  The collection is immutable (or the variable has no initializer), so the
  variable could not be initialised. Pass it in, or mark its collection mutable.

  Args:
    name: the variable.
    col: the collection.
    scope_path: the path of the module.
  """

  def __init__(self, name, col, scope_path):
    self.name = name
    self.col = col
    self.scope_path = scope_path
    super().__init__(
      f'No Variable named "{name}" for collection "{col}" exists in "{scope_path}".'
    )


@set_module('flaxen.errors')
class LazyInitError(FlaxError, ValueError):
  """``lazy_init`` needed a concrete value where only a shape was given.

  ``lazy_init`` traces the model with ``jax.ShapeDtypeStruct`` inputs; if a
  variable's shape depends on input *values*, it cannot be built. Pass real
  arrays for those inputs.

  Args:
    partial_val: the abstract value that was needed.
  """

  def __init__(self, partial_val):
    self.partial_val = partial_val
    # the reference's sentence (a word is missing in it) is kept verbatim, as users match it
    super().__init__(
      f'Lazy init encountered a value that could with the given inputs (shape: {partial_val}). '
      'It could not be computed from shapes alone: pass concrete arrays for the inputs it '
      'depends on.'
    )


@set_module('flaxen.errors')
class JaxTransformError(FlaxError, RuntimeError):
  """A raw JAX transform was applied across a module boundary.

  ``jax.jit``/``jax.vmap``/... applied inside a module to a function that uses
  the module's scope would leak tracers. Use the lifted versions (``nn.jit``,
  ``nn.vmap``, ...) instead.
  """

  def __init__(self):
    super().__init__('Jax transforms and Flax models cannot be mixed.')


@set_module('flaxen.errors')
class ImmutableVariableError(FlaxError, ValueError):
  """A variable in immutable mode was written to.

  The reference raises this for its NNX variables, which flaxen does not
  implement; Linen code hits ``ModifyScopeVariableError`` instead. The class
  exists so that ``except errors.ImmutableVariableError`` keeps working. Make
  the collection mutable, or leave the variable's value alone.

  Args:
    message: what was written where.
  """

  def __init__(self, message: str):
    super().__init__(message)
