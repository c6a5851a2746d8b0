"""Errors of the Linen Module system: binding, setup, naming and attribute rules.

``DescriptorAttributeError`` deliberately does *not* derive from
``AttributeError``: it is raised from inside attribute lookup, and an
``AttributeError`` there would silently fall through to ``__getattr__``.
"""

from __future__ import annotations

from flaxen._src.errors.base import FlaxError
from flaxen._src.public import set_module


@set_module('flaxen.errors')
class ApplyModuleInvalidMethodError(FlaxError, TypeError):
  """``apply(method=...)`` got something that cannot be called on the module.

  ``method`` must be a method of the module (or its name), or a function whose
  first argument is the module.

  Args:
    method: the invalid value.
  """

  def __init__(self, method):
    self.method = method
    super().__init__(f'Cannot call apply(): {method} is not a valid function for apply().')


@set_module('flaxen.errors')
class AssignSubModuleError(FlaxError, RuntimeError):
  """A submodule was constructed outside ``setup`` or a ``@compact`` method.

  Submodules get their name and parent when created inside ``setup()`` or a
  method decorated with ``@nn.compact``. Create them there (a ``partial`` stored
  in ``setup`` must also be called there).

  Args:
    cls: the submodule class name.
  """

  def __init__(self, cls):
    self.cls = cls
    super().__init__(
      f'Submodule {cls} must be defined in `setup()` or in a method wrapped in `@compact`'
    )


@set_module('flaxen.errors')
class CallCompactUnboundModuleError(FlaxError, RuntimeError):
  """A module was called directly instead of through ``init``/``apply``.

  ``nn.Dense(3)(x)`` has no variables to use. Call ``module.init(key, x)`` to
  create variables, then ``module.apply(variables, x)``.
  """

  def __init__(self):
    super().__init__("Can't call compact methods on unbound modules")


@set_module('flaxen.errors')
class CallSetupUnboundModuleError(FlaxError, RuntimeError):
  """``setup()`` was called by hand on an unbound module.

  ``setup`` runs lazily once the module is bound. To get at a submodule defined
  in ``setup``, bind first: ``nn.apply(lambda m: m.sub.clone(), module)({})``.
  """

  def __init__(self):
    super().__init__("Can't call compact methods on unbound modules")


@set_module('flaxen.errors')
class CallUnbindOnUnboundModuleError(FlaxError, RuntimeError):
  """``unbind()`` was called on a module that was never bound.

  Only modules returned by ``bind`` (or seen inside ``init``/``apply``) can be
  unbound.
  """

  def __init__(self):
    super().__init__("Can't call `unbind()` on unbound modules")


@set_module('flaxen.errors')
class CallShareScopeOnUnboundModuleError(FlaxError, ValueError):
  """``nn.share_scope(module, other)`` was called while a module is unbound.

  ``share_scope`` merges two scopes, so both modules must already be bound: call
  it inside ``setup`` (or a compact method) of a module run by ``init``/``apply``,
  after assigning both submodules.
  """

  def __init__(self):
    super().__init__("Can't call `share_scope` on unbound modules")


@set_module('flaxen.errors')
class DescriptorAttributeError(FlaxError, RuntimeError):
  """A property of a module accessed an attribute that does not exist.

  Inside a ``@property`` an ``AttributeError`` would be mistaken for a missing
  property and hidden; flaxen re-raises it as this error. Fix the attribute name
  inside the property.
  """

  def __init__(self):
    super().__init__('Trying to access a property that is accessing a non-existent attribute.')


@set_module('flaxen.errors')
class IncorrectPostInitOverrideError(FlaxError, RuntimeError):
  """A module overrides ``__post_init__`` without calling the parent's.

  The module system does its bookkeeping in ``__post_init__``. Call
  ``super().__post_init__()`` at the end of your override.
  """

  def __init__(self):
    super().__init__(
      'Overrode `.__post_init__()` without calling `super().__post_init__()`'
    )


@set_module('flaxen.errors')
class InvalidInstanceModuleError(FlaxError, TypeError):
  """``init``/``apply``/``bind`` was called on the Module class, not an instance.

  Write ``MyModule().init(key, x)`` rather than ``MyModule.init(key, x)``.
  """

  def __init__(self):
    super().__init__(
      'Can only call init, init_with_output or apply methods on an instance of the Module '
      'class, not the Module class itself'
    )


@set_module('flaxen.errors')
class MultipleMethodsCompactError(FlaxError, TypeError):
  """Kept for compatibility: no longer raised.

  Older Linen allowed one ``@compact`` method per class. Today's reference (and
  flaxen) accept several; the class stays so that ``except`` clauses and
  imports naming it keep working.
  """

  def __init__(self):
    super().__init__('Only one method per class can be @compact')


@set_module('flaxen.errors')
class NameInUseError(FlaxError, ValueError):
  """A param, variable or submodule name is already taken in the module.

  Each name may be used once per module. To share a layer, create it once and
  call the same instance several times instead of creating a second one with
  the same name.

  Args:
    key_type: ``'param'``, ``'variable'`` or ``'submodule'``.
    value: the name.
    module_name: the module in which the name clashed.
  """

  def __init__(self, key_type, value, module_name):
    self.key_type = key_type
    self.value = value
    self.module_name = module_name
    super().__init__(f'Could not create {key_type} "{value}" in Module {module_name}: Name in use.')


@set_module('flaxen.errors')
class ReservedModuleAttributeError(FlaxError, TypeError):
  """A Module subclass declares a field named ``parent`` or ``name``.

  Those two attributes are added by the module system. Rename your field.

  Args:
    annotations: the annotations of the offending class.
  """

  def __init__(self, annotations):
    self.annotations = annotations
    super().__init__(f'properties `parent` and `name` are reserved: {annotations}')


@set_module('flaxen.errors')
class SetAttributeFrozenModuleError(FlaxError, AttributeError):
  """An attribute of a module was assigned outside ``setup``.

  Modules are frozen dataclasses; only ``setup`` may assign attributes. Compute
  values locally in ``__call__``, or use ``module.clone(field=value)``.

  Args:
    module_cls: the module's class name.
    attr_name: the attribute.
    attr_val: the value that was assigned.
  """

  def __init__(self, module_cls, attr_name, attr_val):
    self.module_cls = module_cls
    self.attr_name = attr_name
    self.attr_val = attr_val
    super().__init__(
      f"Can't set {attr_name}={attr_val} for Module of type {module_cls}: Module instance is "
      'frozen outside of setup method.'
    )


@set_module('flaxen.errors')
class SetAttributeInModuleSetupError(FlaxError, AttributeError):
  """A dataclass field of a module was reassigned inside ``setup``.

  Construction attributes (the fields) are fixed when the module is created;
  ``setup`` may only add new attributes. Use a different attribute name.
  """

  def __init__(self):
    super().__init__('Module construction attributes are frozen.')
