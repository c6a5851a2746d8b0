"""flaxen.errors: every class of the reference, its constructor, bases and message."""

import inspect
import pickle

import pytest

from flaxen import errors

URL = 'https://flax.readthedocs.io/en/latest/api_reference/flax.errors.html#flax.errors.'

# class name -> (constructor args, built-in base, substring of the message)
CASES = {
  'AlreadyExistsError': (('/tmp/ckpt_1',), FileExistsError, 'existing file: "/tmp/ckpt_1"'),
  'ApplyModuleInvalidMethodError': ((3,), TypeError, '3 is not a valid function'),
  'ApplyScopeInvalidVariablesStructureError': (({'params': {'params': 1}},), ValueError,
                                               'extra params layer'),
  'ApplyScopeInvalidVariablesTypeError': ((), TypeError, 'dictionary of collections'),
  'AssignSubModuleError': (('Dense',), RuntimeError, 'Submodule Dense must be defined'),
  'CallCompactUnboundModuleError': ((), RuntimeError, 'unbound modules'),
  'CallSetupUnboundModuleError': ((), RuntimeError, 'unbound modules'),
  'CallUnbindOnUnboundModuleError': ((), RuntimeError, '`unbind()`'),
  'CallShareScopeOnUnboundModuleError': ((), ValueError, '`share_scope`'),
  'CursorFindError': ((), ValueError, 'No object found given the conditions of the cond_fn.'),
  'DescriptorAttributeError': ((), RuntimeError, 'non-existent attribute'),
  'ImmutableVariableError': (('Cannot set the value of x',), ValueError,
                             'Cannot set the value of x'),
  'IncorrectPostInitOverrideError': ((), RuntimeError, 'super().__post_init__()'),
  'InvalidCheckpointError': (('/ck', 3), ValueError, 'step: "3" and path: "/ck"'),
  'InvalidFilterError': ((3.5,), TypeError, 'Invalid Filter: "3.5"'),
  'InvalidInstanceModuleError': ((), TypeError, 'not the Module class itself'),
  'InvalidRngError': (('Dense_0 needs PRNG for "dropout"',), ValueError,
                      'Dense_0 needs PRNG for "dropout"'),
  'InvalidScopeError': (('Dense_0',), RuntimeError, 'scope "Dense_0" is no longer valid'),
  'JaxTransformError': ((), RuntimeError, 'cannot be mixed'),
  'LazyInitError': (('f32[3]',), ValueError, 'f32[3]'),
  'MPACheckpointingRequiredError': (('/ck', 2), ValueError, 'GlobalAsyncCheckpointManager'),
  'MPARestoreDataCorruptedError': ((2, '/ck'), ValueError, 'commit_success.txt'),
  'MPARestoreTargetRequiredError': (('/ck', 2, 'w'), ValueError, 'restore array at w.'),
  'MPARestoreTypeNotMatchError': ((2, '/ck_gda'), TypeError, '/ck_gda'),
  'ModifyScopeVariableError': (('batch_stats', 'mean', '/BatchNorm_0'), ValueError,
                               'Cannot update variable "mean" in "/BatchNorm_0" because '
                               'collection "batch_stats" is immutable.'),
  'MultipleMethodsCompactError': ((), TypeError, 'Only one method per class can be @compact'),
  'NameInUseError': (('param', 'kernel', 'Dense'), ValueError,
                     'Could not create param "kernel" in Module Dense: Name in use.'),
  'PartitioningUnspecifiedError': (('box',), ValueError, 'metadata_params: box'),
  'ReservedModuleAttributeError': (({'name': str},), TypeError, '`parent` and `name`'),
  'ScopeCollectionNotFound': (('params', 'kernel', '/Dense_0'), KeyError,
                              'Tried to access "kernel" from collection "params" in "/Dense_0"'),
  'ScopeParamNotFoundError': (('kernel', '/Dense_0'), KeyError,
                              'Could not find parameter named "kernel" in scope "/Dense_0".'),
  'ScopeParamShapeError': (('kernel', '/Dense_0', (3, 4), (4, 4)), ValueError,
                           'For parameter "kernel" in "/Dense_0", the given initializer is '
                           'expected to generate shape (4, 4), but the existing parameter it '
                           'received has shape (3, 4).'),
  'ScopeVariableNotFoundError': (('mean', 'batch_stats', '/BN'), KeyError,
                                 'No Variable named "mean" for collection "batch_stats" exists '
                                 'in "/BN".'),
  'SetAttributeFrozenModuleError': (('Foo', 'x', 3), AttributeError,
                                    "Can't set x=3 for Module of type Foo"),
  'SetAttributeInModuleSetupError': ((), AttributeError, 'construction attributes are frozen'),
  'TraceContextError': (('Cannot mutate x from a different trace level',), RuntimeError,
                        'Cannot mutate x from a different trace level'),
  'TransformTargetError': ((5,), TypeError, 'not a Module class or callable: 5'),
  'TraverseTreeError': ((None, None), ValueError,
                        'Both update_fn and cond_fn are None. Exactly one of them must be None.'),
  'TransformedMethodReturnValueError': (('__call__',), TypeError,
                                        'method __call__ cannot return Modules or Variables'),
}


# flaxen's own errors, raised by serialization and checkpoints (not in the reference)
FLAXEN_EXTRAS = {'MsgpackDecodeError', 'CheckpointCorruptedError', 'CheckpointMismatchError',
                 'StateMismatchError', 'StateMismatchKeyError', 'StateMismatchTypeError',
                 'StateMismatchAttributeError', 'InvalidStateDictError'}


def test_exactly_the_reference_classes_are_exported():
  exported = {
    n for n, v in vars(errors).items() if inspect.isclass(v) and issubclass(v, BaseException)
  }
  assert exported == set(CASES) | {'FlaxError'} | FLAXEN_EXTRAS
  # the 34 of SPEC.md §4 plus today's CallShareScopeOnUnboundModuleError, CursorFindError,
  # TraverseTreeError, ImmutableVariableError and TraceContextError
  assert len(CASES) == 39
  for name in FLAXEN_EXTRAS:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.FlaxError) and issubclass(cls, ValueError)
    assert cls.__doc__ and len(cls.__doc__.split()) >= 10


# Every class constructed with placeholder arguments, and the message text the reference
# (flax 0.12.8) gives for them, verbatim (typos and double spaces included): flaxen's
# message must contain it, with flaxen's additions only around it.
REFERENCE_TEXT = {
  'AlreadyExistsError': (('<path>',),
    'Trying overwrite an existing file: "<path>".'),
  'ApplyModuleInvalidMethodError': (('<method>',),
    'Cannot call apply(): <method> is not a valid function for apply().'),
  'ApplyScopeInvalidVariablesStructureError': (('<variables>',),
    'Expect the `variables` (first argument) passed to apply() to be a dict with the '
    'structure {"params": ...}, but got a dict with an extra params layer, i.e.  '
    '{"params": {"params": ... } }. You should instead pass in your dict\'s ["params"].'),
  'ApplyScopeInvalidVariablesTypeError': ((),
    'The first argument passed to an apply function should be a dictionary of '
    'collections. Each collection should be a dictionary with string keys.'),
  'AssignSubModuleError': (('<cls>',),
    'Submodule <cls> must be defined in `setup()` or in a method wrapped in `@compact`'),
  'CallCompactUnboundModuleError': ((),
    "Can't call compact methods on unbound modules"),
  'CallSetupUnboundModuleError': ((),
    "Can't call compact methods on unbound modules"),
  'CallShareScopeOnUnboundModuleError': ((),
    "Can't call `share_scope` on unbound modules"),
  'CallUnbindOnUnboundModuleError': ((),
    "Can't call `unbind()` on unbound modules"),
  'CursorFindError': ((),
    'No object found given the conditions of the cond_fn.'),
  'DescriptorAttributeError': ((),
    'Trying to access a property that is accessing a non-existent attribute.'),
  'ImmutableVariableError': (('<message>',),
    '<message>'),
  'IncorrectPostInitOverrideError': ((),
    'Overrode `.__post_init__()` without calling `super().__post_init__()`'),
  'InvalidCheckpointError': (('<path>', '<step>'),
    'Trying to save an outdated checkpoint at step: "<step>" and path: "<path>".'),
  'InvalidFilterError': (('<filter_like>',),
    'Invalid Filter: "<filter_like>"'),
  'InvalidInstanceModuleError': ((),
    'Can only call init, init_with_output or apply methods on an instance of the Module '
    'class, not the Module class itself'),
  'InvalidRngError': (('<msg>',),
    '<msg>'),
  'InvalidScopeError': (('<scope_name>',),
    'The scope "<scope_name>" is no longer valid.'),
  'JaxTransformError': ((),
    'Jax transforms and Flax models cannot be mixed.'),
  'LazyInitError': (('<partial_val>',),
    'Lazy init encountered a value that could with the given inputs (shape: '
    '<partial_val>).'),
  'MPACheckpointingRequiredError': (('<path>', '<step>'),
    'Checkpoint failed at step: "<step>" and path: "<path>": Target contains a '
    'multiprocess array should be saved/restored with a GlobalAsyncCheckpointManager.'),
  'MPARestoreDataCorruptedError': (('<step>', '<path>'),
    'Restore checkpoint failed at step: "<step>" on multiprocess array at  "<path>": No '
    '"commit_success.txt" found on this "_gda" directory. Was its save halted before '
    'completion?'),
  'MPARestoreTargetRequiredError': (('<path>', '<step>'),
    'Restore checkpoint failed at step: "<step>" and path: "<path>": Checkpoints '
    'containing a multiprocess array need to be restored with a target with pre-created '
    'arrays. If you cannot provide a full valid target, consider '
    '``allow_partial_mpa_restoration=True``. '),
  'ModifyScopeVariableError': (('<col>', '<variable_name>', '<scope_path>'),
    'Cannot update variable "<variable_name>" in "<scope_path>" because collection '
    '"<col>" is immutable.'),
  'MultipleMethodsCompactError': ((),
    'Only one method per class can be @compact'),
  'NameInUseError': (('<key_type>', '<value>', '<module_name>'),
    'Could not create <key_type> "<value>" in Module <module_name>: Name in use.'),
  'PartitioningUnspecifiedError': (('<target>',),
    'Trying to transform a Partitioned variable but "partition_name" is not specified in '
    'metadata_params: <target>'),
  'ReservedModuleAttributeError': (('<annotations>',),
    'properties `parent` and `name` are reserved: <annotations>'),
  'ScopeCollectionNotFound': (('<col_name>', '<var_name>', '<scope_path>'),
    'Tried to access "<var_name>" from collection "<col_name>" in "<scope_path>" but the '
    'collection is empty.'),
  'ScopeParamNotFoundError': (('<param_name>', '<scope_path>'),
    'Could not find parameter named "<param_name>" in scope "<scope_path>".'),
  'ScopeParamShapeError': (('<param_name>', '<scope_path>', '<value_shape>', '<init_shape>'),
    'For parameter "<param_name>" in "<scope_path>", the given initializer is expected '
    'to generate shape <init_shape>, but the existing parameter it received has shape '
    '<value_shape>.'),
  'ScopeVariableNotFoundError': (('<name>', '<col>', '<scope_path>'),
    'No Variable named "<name>" for collection "<col>" exists in "<scope_path>".'),
  'SetAttributeFrozenModuleError': (('<module_cls>', '<attr_name>', '<attr_val>'),
    "Can't set <attr_name>=<attr_val> for Module of type <module_cls>: Module instance "
    'is frozen outside of setup method.'),
  'SetAttributeInModuleSetupError': ((),
    'Module construction attributes are frozen.'),
  'TraceContextError': (('<message>',),
    '<message>'),
  'TransformTargetError': (('<target>',),
    'Linen transformations must be applied to Modules classes or functions taking a '
    'Module instance as the first argument. The provided target is not a Module class or '
    'callable: <target>'),
  'TransformedMethodReturnValueError': (('<name>',),
    'Transformed module method <name> cannot return Modules or Variables.'),
  'TraverseTreeError': (('<update_fn>', '<cond_fn>'),
    'Both update_fn and cond_fn are not None. Exactly one of them must be not None.'),
}

@pytest.mark.parametrize('name', sorted(CASES))
def test_error_class(name):
  args, builtin, fragment = CASES[name]
  cls = getattr(errors, name)
  err = cls(*args)
  assert isinstance(err, errors.FlaxError)
  assert isinstance(err, builtin)
  msg = str(err)
  assert fragment in msg
  assert msg.endswith(f' ({URL}{name})')
  assert not msg.startswith(("'", '"'))
  assert cls.__module__ == 'flaxen.errors'
  assert cls.__doc__ and len(cls.__doc__.split()) >= 10
  with pytest.raises(builtin):
    raise err


@pytest.mark.parametrize('name', sorted(CASES))
def test_constructor_signature_matches_reference(name):
  args, _, _ = CASES[name]
  params = inspect.signature(getattr(errors, name)).parameters
  assert len([p for p in params.values() if p.default is inspect.Parameter.empty]) <= len(args)
  assert len(params) >= len(args)


@pytest.mark.parametrize('name', sorted(CASES))
def test_errors_pickle(name):
  args, _, _ = CASES[name]
  err = getattr(errors, name)(*args)
  back = pickle.loads(pickle.dumps(err))
  assert type(back) is type(err)
  assert str(back) == str(err)
  assert vars(back) == vars(err)


def test_key_error_subclasses_print_unquoted():
  err = errors.ScopeParamNotFoundError('kernel', '/Dense_0')
  assert str(err).startswith('Could not find parameter named "kernel"')
  with pytest.raises(KeyError, match='Could not find parameter'):
    raise err


def test_constructor_arguments_are_attributes():
  err = errors.ScopeParamShapeError('kernel', '/Dense_0', (3, 4), (4, 4))
  assert (err.param_name, err.scope_path, err.value_shape, err.init_shape) == (
    'kernel', '/Dense_0', (3, 4), (4, 4))
  assert errors.MPARestoreTargetRequiredError('/p', 1).key is None


def test_base_error_and_catch_all():
  with pytest.raises(errors.FlaxError):
    raise errors.NameInUseError('submodule', 'Dense_0', 'MLP')
  base = errors.FlaxError('custom problem')
  assert str(base) == f'custom problem ({URL}FlaxError)'
  assert base.message == 'custom problem'


def test_descriptor_error_is_not_an_attribute_error():
  # raised from inside attribute lookup, an AttributeError would fall through to __getattr__
  assert not issubclass(errors.DescriptorAttributeError, AttributeError)


@pytest.mark.parametrize('name', sorted(REFERENCE_TEXT))
def test_message_contains_the_reference_text(name):
  args, text = REFERENCE_TEXT[name]
  assert text in str(getattr(errors, name)(*args))


class _Found:
  def __init__(self, path):
    self._path = path


def test_optional_argument_branches_contain_the_reference_text():
  with_key = errors.MPARestoreTargetRequiredError('/p', 3, 'params/w')
  assert ('``allow_partial_mpa_restoration=True``. This error fired when trying to restore '
          'array at params/w.') in str(with_key)
  two = errors.CursorFindError(_Found('.a'), _Found('.b'))
  assert ('More than one object found given the conditions of the cond_fn. The first two '
          'objects found have the following paths: .a and .b') in str(two)
  assert ('Both update_fn and cond_fn are not None. Exactly one of them must be not '
          'None.') in str(errors.TraverseTreeError(1, 2))
