"""Public error classes of flaxen (the reference's ``flax.errors``).

This file only re-exports; see ``flaxen._src.errors``.
"""

from flaxen._src.errors import AlreadyExistsError as AlreadyExistsError
from flaxen._src.errors import ApplyModuleInvalidMethodError as ApplyModuleInvalidMethodError
from flaxen._src.errors import (
    ApplyScopeInvalidVariablesStructureError as ApplyScopeInvalidVariablesStructureError,
)
from flaxen._src.errors import (
    ApplyScopeInvalidVariablesTypeError as ApplyScopeInvalidVariablesTypeError,
)
from flaxen._src.errors import AssignSubModuleError as AssignSubModuleError
from flaxen._src.errors import CallCompactUnboundModuleError as CallCompactUnboundModuleError
from flaxen._src.errors import CallSetupUnboundModuleError as CallSetupUnboundModuleError
from flaxen._src.errors import (
    CallShareScopeOnUnboundModuleError as CallShareScopeOnUnboundModuleError,
)
from flaxen._src.errors import CallUnbindOnUnboundModuleError as CallUnbindOnUnboundModuleError
from flaxen._src.errors import CursorFindError as CursorFindError
from flaxen._src.errors import DescriptorAttributeError as DescriptorAttributeError
from flaxen._src.errors import FlaxError as FlaxError
from flaxen._src.errors import ImmutableVariableError as ImmutableVariableError
from flaxen._src.errors import IncorrectPostInitOverrideError as IncorrectPostInitOverrideError
from flaxen._src.errors import InvalidCheckpointError as InvalidCheckpointError
from flaxen._src.errors import InvalidFilterError as InvalidFilterError
from flaxen._src.errors import InvalidInstanceModuleError as InvalidInstanceModuleError
from flaxen._src.errors import InvalidRngError as InvalidRngError
from flaxen._src.errors import InvalidScopeError as InvalidScopeError
from flaxen._src.errors import JaxTransformError as JaxTransformError
from flaxen._src.errors import LazyInitError as LazyInitError
from flaxen._src.errors import ModifyScopeVariableError as ModifyScopeVariableError
from flaxen._src.errors import MPACheckpointingRequiredError as MPACheckpointingRequiredError
from flaxen._src.errors import MPARestoreDataCorruptedError as MPARestoreDataCorruptedError
from flaxen._src.errors import MPARestoreTargetRequiredError as MPARestoreTargetRequiredError
from flaxen._src.errors import MPARestoreTypeNotMatchError as MPARestoreTypeNotMatchError
from flaxen._src.errors import MultipleMethodsCompactError as MultipleMethodsCompactError
from flaxen._src.errors import NameInUseError as NameInUseError
from flaxen._src.errors import PartitioningUnspecifiedError as PartitioningUnspecifiedError
from flaxen._src.errors import ReservedModuleAttributeError as ReservedModuleAttributeError
from flaxen._src.errors import ScopeCollectionNotFound as ScopeCollectionNotFound
from flaxen._src.errors import ScopeParamNotFoundError as ScopeParamNotFoundError
from flaxen._src.errors import ScopeParamShapeError as ScopeParamShapeError
from flaxen._src.errors import ScopeVariableNotFoundError as ScopeVariableNotFoundError
from flaxen._src.errors import SetAttributeFrozenModuleError as SetAttributeFrozenModuleError
from flaxen._src.errors import SetAttributeInModuleSetupError as SetAttributeInModuleSetupError
from flaxen._src.errors import TraceContextError as TraceContextError
from flaxen._src.errors import (
    TransformedMethodReturnValueError as TransformedMethodReturnValueError,
)
from flaxen._src.errors import TransformTargetError as TransformTargetError
from flaxen._src.errors import TraverseTreeError as TraverseTreeError

# flaxen's own errors (all defined under flaxen._src.errors)
# isort: split
from flaxen._src.errors import CheckpointCorruptedError as CheckpointCorruptedError
from flaxen._src.errors import CheckpointMismatchError as CheckpointMismatchError
from flaxen._src.errors import InvalidStateDictError as InvalidStateDictError
from flaxen._src.errors import MsgpackDecodeError as MsgpackDecodeError
from flaxen._src.errors import StateMismatchAttributeError as StateMismatchAttributeError
from flaxen._src.errors import StateMismatchError as StateMismatchError
from flaxen._src.errors import StateMismatchKeyError as StateMismatchKeyError
from flaxen._src.errors import StateMismatchTypeError as StateMismatchTypeError
