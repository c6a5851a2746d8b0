"""The classifiers ``flaxen train --model NAME`` can build.

* ``cnn``: the Quickstart's CNN (two 3x3 convolutions with 32 and 64 features,
  each followed by ReLU and 2x2 average pooling, then Dense(256), ReLU and the
  class logits). On 8x8 digits it has 87,178 parameters; on 28x28 MNIST
  824,458, as the Quickstart's table shows.
* ``mlp``: flatten, Dense(hidden), ReLU, Dense(num_classes).

Both take ``float32[B, H, W, C]`` images and return ``float32[B, num_classes]``
logits.

``--model package.module:attr`` names a user's model instead (``load_model``):
``attr`` (dots allowed) is a Module class (built with ``num_classes`` when it has
such a field, plus the config file's ``model_kwargs``), a Module instance, or a
function returning one. The current directory is importable, as with
``python -m``. Any Linen module works: the public training loop carries
``batch_stats`` and dropout RNGs when the model uses them.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from collections.abc import Mapping
from typing import Any

from flaxen._src.linen.activation import relu
from flaxen._src.linen.linear import Conv, Dense
from flaxen._src.linen.module import Module, compact
from flaxen._src.linen.pooling import avg_pool


class CNN(Module):
  """Quickstart CNN: Conv-ReLU-AvgPool twice, then Dense-ReLU-Dense."""

  num_classes: int = 10

  @compact
  def __call__(self, x):
    x = Conv(features=32, kernel_size=(3, 3))(x)
    x = avg_pool(relu(x), window_shape=(2, 2), strides=(2, 2))
    x = Conv(features=64, kernel_size=(3, 3))(x)
    x = avg_pool(relu(x), window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))
    x = relu(Dense(features=256)(x))
    return Dense(features=self.num_classes)(x)


class MLP(Module):
  """Flatten, one hidden ReLU layer, logits."""

  hidden: int = 128
  num_classes: int = 10

  @compact
  def __call__(self, x):
    x = x.reshape((x.shape[0], -1))
    x = relu(Dense(features=self.hidden)(x))
    return Dense(features=self.num_classes)(x)


MODELS = {'cnn': CNN, 'mlp': MLP}


class ModelError(ValueError):
  """``--model`` cannot be resolved to a Linen module; the message says why."""


def make_model(name: str, num_classes: int = 10) -> Module:
  """A fresh, unbound built-in model by name.

  Raises:
    ModelError: unknown ``name`` (the message lists the known ones).
  """
  try:
    cls = MODELS[name]
  except KeyError:
    raise ModelError(f'unknown model {name!r}: choose one of {sorted(MODELS)} or name your own '
                     f'as package.module:attr') from None
  return cls(num_classes=num_classes)


def _import(spec: str) -> Any:
  module_name, _, attr = spec.partition(':')
  if not module_name or not attr:
    raise ModelError(f'--model {spec}: expected package.module:attr (or one of {sorted(MODELS)})')
  if os.getcwd() not in sys.path and '' not in sys.path:
    sys.path.insert(0, os.getcwd())
  try:
    obj = importlib.import_module(module_name)
  except ImportError as e:
    raise ModelError(f'--model {spec}: cannot import {module_name} ({e})') from e
  except Exception as e:  # the user's module failed while being imported
    raise ModelError(f'--model {spec}: importing {module_name} raised '
                     f'{type(e).__name__}: {e}') from e
  for part in attr.split('.'):
    if not hasattr(obj, part):
      raise ModelError(f'--model {spec}: {module_name} has no attribute {attr!r}')
    obj = getattr(obj, part)
  return obj


def _accepts(target: Any, name: str) -> bool:
  if isinstance(target, type) and dataclasses.is_dataclass(target):
    return name in {f.name for f in dataclasses.fields(target)}
  return False


def load_model(spec: str, num_classes: int = 10,
               kwargs: Mapping[str, Any] | None = None) -> Module:
  """The model ``--model spec`` names (see the module docstring).

  Raises:
    ModelError: unknown name, import failure, or not a Linen module.
  """
  kwargs = dict(kwargs or {})
  if ':' not in spec:
    if kwargs:
      return make_model(spec, num_classes).clone(**kwargs)
    return make_model(spec, num_classes)
  obj = _import(spec)
  if isinstance(obj, Module):
    model = obj.clone(**kwargs) if kwargs else obj
  elif callable(obj):
    if _accepts(obj, 'num_classes') and 'num_classes' not in kwargs:
      kwargs['num_classes'] = num_classes
    try:
      model = obj(**kwargs)
    except Exception as e:
      raise ModelError(f'--model {spec}: calling it with {kwargs or "no arguments"} raised '
                       f'{type(e).__name__}: {e}') from e
  else:
    raise ModelError(f'--model {spec}: {type(obj).__name__} is not a Module class, instance '
                     f'or factory')
  if not isinstance(model, Module):
    raise ModelError(f'--model {spec}: got {type(model).__name__}, not a flaxen.linen.Module')
  return model
