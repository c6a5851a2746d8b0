"""Fixtures that pin the checkpoint format.

``flax_use_orbax_checkpointing`` is on by default (as in the reference). Tests of
msgpack-only behaviour request ``msgpack``; tests that hold for both formats
request ``fmt`` and run once per format.
"""

import pytest

from flaxen import config


@pytest.fixture
def msgpack():
  with config.temp_flip_flag('use_orbax_checkpointing', False):
    yield 'msgpack'


@pytest.fixture
def orbax():
  with config.temp_flip_flag('use_orbax_checkpointing', True):
    yield 'orbax'


@pytest.fixture(params=['msgpack', 'orbax'])
def fmt(request):
  with config.temp_flip_flag('use_orbax_checkpointing', request.param == 'orbax'):
    yield request.param
