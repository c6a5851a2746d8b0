"""flaxen.io: the file-system layer the checkpoint code goes through (the reference's ``flax.io``).

This file only re-exports, plus one documented shim: ``io_mode``, ``gfile`` and
``NotFoundError`` are live views of the implementation's state (the reference
keeps them as module globals that ``set_mode`` / ``override_mode`` change), so
this module's class turns those three names into properties. Writing
``flaxen.io.io_mode = mode`` sets the mode, as rebinding the global does in the
reference.
"""

import sys as _sys
import types as _types

from flaxen._src import io as _impl
from flaxen._src.io import BackendMode as BackendMode
from flaxen._src.io import GFile as GFile
from flaxen._src.io import copy as copy
from flaxen._src.io import exists as exists
from flaxen._src.io import getsize as getsize
from flaxen._src.io import glob as glob
from flaxen._src.io import isdir as isdir
from flaxen._src.io import listdir as listdir
from flaxen._src.io import makedirs as makedirs
from flaxen._src.io import override_mode as override_mode
from flaxen._src.io import remove as remove
from flaxen._src.io import rename as rename
from flaxen._src.io import rmtree as rmtree
from flaxen._src.io import set_mode as set_mode


class _IOModule(_types.ModuleType):
  @property
  def io_mode(self):
    return _impl.get_mode()

  @io_mode.setter
  def io_mode(self, value):
    _impl.set_mode(value)

  @property
  def gfile(self):
    return _impl.tf_gfile()

  @property
  def NotFoundError(self):  # noqa: N802 (the reference's name)
    return _impl.not_found_error()

  def __dir__(self):
    return sorted({*super().__dir__(), 'io_mode', 'gfile', 'NotFoundError'})


_sys.modules[__name__].__class__ = _IOModule
