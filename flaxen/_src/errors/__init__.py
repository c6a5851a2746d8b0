"""Every error flaxen raises itself (``flaxen.errors``).

``FlaxError`` is the common base; each concrete class also derives from the
built-in exception that matches its cause, carries its constructor arguments as
attributes, and documents cause and fix in its docstring. Class names and
constructor arguments are those of the reference's ``flax.errors``.

Use as ``from flaxen._src import errors`` then ``raise errors.NameInUseError(...)``.
"""

from flaxen._src.errors.base import FlaxError
from flaxen._src.errors.checkpoint import (
  AlreadyExistsError,
  CheckpointCorruptedError,
  CheckpointMismatchError,
  InvalidCheckpointError,
  MPACheckpointingRequiredError,
  MPARestoreDataCorruptedError,
  MPARestoreTargetRequiredError,
  MPARestoreTypeNotMatchError,
)
from flaxen._src.errors.cursor import CursorFindError, TraverseTreeError
from flaxen._src.errors.module import (
  ApplyModuleInvalidMethodError,
  AssignSubModuleError,
  CallCompactUnboundModuleError,
  CallSetupUnboundModuleError,
  CallShareScopeOnUnboundModuleError,
  CallUnbindOnUnboundModuleError,
  DescriptorAttributeError,
  IncorrectPostInitOverrideError,
  InvalidInstanceModuleError,
  MultipleMethodsCompactError,
  NameInUseError,
  ReservedModuleAttributeError,
  SetAttributeFrozenModuleError,
  SetAttributeInModuleSetupError,
)
from flaxen._src.errors.scope import (
  ApplyScopeInvalidVariablesStructureError,
  ApplyScopeInvalidVariablesTypeError,
  ImmutableVariableError,
  InvalidFilterError,
  InvalidRngError,
  InvalidScopeError,
  JaxTransformError,
  LazyInitError,
  ModifyScopeVariableError,
  ScopeCollectionNotFound,
  ScopeParamNotFoundError,
  ScopeParamShapeError,
  ScopeVariableNotFoundError,
)
from flaxen._src.errors.serialization import (
  InvalidStateDictError,
  MsgpackDecodeError,
  StateMismatchAttributeError,
  StateMismatchError,
  StateMismatchKeyError,
  StateMismatchTypeError,
)
from flaxen._src.errors.transform import (
  PartitioningUnspecifiedError,
  TraceContextError,
  TransformedMethodReturnValueError,
  TransformTargetError,
)
