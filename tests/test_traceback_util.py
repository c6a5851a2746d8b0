"""flaxen.traceback_util: flaxen's directory is hidden from / shown in JAX-filtered tracebacks."""

import os
import traceback

import jax
import pytest
from jax._src import traceback_util as jax_tb

import flaxen
from flaxen import traceback_util

FLAXEN_DIR = os.path.dirname(os.path.abspath(flaxen.__file__))
INSIDE = os.path.join(FLAXEN_DIR, '_src', 'tree', 'frozen_dict.py')


@pytest.fixture(autouse=True)
def _restore():
  yield
  traceback_util.hide_flax_in_tracebacks()


def test_hidden_by_default_and_toggles():
  assert flaxen.config.flax_filter_frames is True
  assert not jax_tb.include_filename(INSIDE)
  traceback_util.show_flax_in_tracebacks()
  assert jax_tb.include_filename(INSIDE)
  traceback_util.show_flax_in_tracebacks()  # idempotent
  assert jax_tb.include_filename(INSIDE)
  traceback_util.hide_flax_in_tracebacks()
  traceback_util.hide_flax_in_tracebacks()
  assert not jax_tb.include_filename(INSIDE)
  assert jax_tb._exclude_paths.count(FLAXEN_DIR) == 1


def test_user_files_are_never_hidden():
  assert jax_tb.include_filename(os.path.abspath(__file__))


def _frames_of_failing_jit():
  from flaxen.core import FrozenDict

  def user_fn(x):
    return FrozenDict(x)['missing']

  old = jax.config.jax_traceback_filtering
  jax.config.update('jax_traceback_filtering', 'remove_frames')
  try:
    jax.jit(lambda x: user_fn({'a': x}))(1.0)
  except KeyError as e:
    return [f.filename for f in traceback.extract_tb(e.__traceback__)]
  finally:
    jax.config.update('jax_traceback_filtering', old)
  pytest.fail('expected a KeyError')


def test_filtered_traceback_drops_flaxen_frames():
  files = _frames_of_failing_jit()
  assert os.path.abspath(__file__) in files
  assert not any(f.startswith(FLAXEN_DIR) for f in files)
  traceback_util.show_flax_in_tracebacks()
  files = _frames_of_failing_jit()
  assert any(f.startswith(FLAXEN_DIR) for f in files)


def test_api_boundary_is_jaxs():
  assert traceback_util.api_boundary is jax_tb.api_boundary

  @traceback_util.api_boundary
  def entry(x):
    return x + 1

  assert entry(1) == 2


def test_register_exclusion_follows_the_filtering_switch(tmp_path):
  from jax._src import source_info_util

  lib = str(tmp_path / 'my_library')
  later = str(tmp_path / 'registered_while_shown')
  traceback_util.register_exclusion(lib)
  assert lib in jax_tb._exclude_paths and lib in source_info_util._exclude_paths
  assert not jax_tb.include_filename(os.path.join(lib, 'm.py'))
  traceback_util.show_flax_in_tracebacks()
  assert lib not in jax_tb._exclude_paths and jax_tb.include_filename(INSIDE)
  traceback_util.register_exclusion(later)  # filtering is off: recorded, not applied
  assert later not in jax_tb._exclude_paths
  traceback_util.hide_flax_in_tracebacks()  # re-applies everything registered
  assert lib in jax_tb._exclude_paths and later in jax_tb._exclude_paths
  assert jax_tb._exclude_paths.count(lib) == 1
  traceback_util.show_flax_in_tracebacks()
  traceback_util.hide_flax_in_tracebacks()
  assert jax_tb._exclude_paths.count(lib) == 1


def test_flaxen_directory_is_a_source_info_exclusion():
  from jax._src import source_info_util

  assert FLAXEN_DIR in source_info_util._exclude_paths


def test_facade_names():
  assert traceback_util.config is flaxen.config
  for name in ('register_exclusion', 'hide_flax_in_tracebacks', 'show_flax_in_tracebacks'):
    assert getattr(traceback_util, name).__module__ == 'flaxen.traceback_util'
