"""flaxen.config: flags, env overrides, update, temp_flip_flag."""

import os
import pathlib
import subprocess
import sys

import pytest

import flaxen
from flaxen import configurations
from flaxen.configurations import config

ROOT = pathlib.Path(__file__).resolve().parents[1]

DEFAULTS = {
  'flax_use_orbax_checkpointing': True,
  'flax_filter_frames': True,
  'flax_profile': True,
  'flax_relaxed_naming': True,
  'flax_preserve_adopted_names': False,
  'flax_return_frozendict': False,
  'flax_fix_rng_separator': False,
}


def test_package_exposes_the_config_object():
  assert flaxen.config is config


@pytest.mark.parametrize('name', sorted(DEFAULTS))
def test_defaults(name):
  if name.upper() in os.environ:
    pytest.skip('overridden by the environment')
  assert getattr(config, name) is DEFAULTS[name]
  assert config.values[name] is DEFAULTS[name]


def test_update_and_unknown_names():
  old = config.flax_profile
  try:
    config.update('flax_profile', not old)
    assert config.flax_profile is (not old)
  finally:
    config.update('flax_profile', old)
  with pytest.raises(LookupError, match='flax_no_such_flag'):
    config.update('flax_no_such_flag', True)
  with pytest.raises(AttributeError, match='flax_no_such_flag'):
    config.flax_no_such_flag


def test_update_accepts_a_flag_holder():
  holder = configurations.flax_fix_rng_separator
  assert holder.value is config.flax_fix_rng_separator
  with config.temp_flip_flag('fix_rng_separator', True):
    assert holder.value is True
  config.update(holder, False)
  assert config.flax_fix_rng_separator is False
  with pytest.raises(TypeError):
    bool(holder)


def test_direct_assignment_is_refused():
  with pytest.raises(AttributeError, match='config.update'):
    config.flax_profile = False


@pytest.mark.parametrize('name', ['return_frozendict', 'flax_return_frozendict'])
def test_temp_flip_flag_with_or_without_prefix(name):
  assert config.flax_return_frozendict is False
  with config.temp_flip_flag(name, True):
    assert config.flax_return_frozendict is True
  assert config.flax_return_frozendict is False
  with configurations.temp_flip_flag(name, True):
    assert config.flax_return_frozendict is True
  assert config.flax_return_frozendict is False


def test_temp_flip_flag_restores_on_error():
  with pytest.raises(ZeroDivisionError):
    with config.temp_flip_flag('relaxed_naming', False):
      assert config.flax_relaxed_naming is False
      1 / 0
  assert config.flax_relaxed_naming is True
  with pytest.raises(LookupError):
    with config.temp_flip_flag('not_a_flag', True):
      pass


@pytest.mark.parametrize('raw,expected', [
  ('y', True), ('YES', True), ('t', True), ('True', True), ('on', True), ('1', True),
  ('n', False), ('No', False), ('f', False), ('FALSE', False), ('off', False), ('0', False),
])
def test_static_bool_env(monkeypatch, raw, expected):
  monkeypatch.setenv('FLAXEN_TEST_BOOL', raw)
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', not expected) is expected


def test_static_bool_env_default_and_bad_value(monkeypatch):
  monkeypatch.delenv('FLAXEN_TEST_BOOL', raising=False)
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', True) is True
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', False) is False
  monkeypatch.setenv('FLAXEN_TEST_BOOL', 'maybe')
  with pytest.raises(ValueError, match="'maybe'.*FLAXEN_TEST_BOOL"):
    configurations.static_bool_env('FLAXEN_TEST_BOOL', True)


def test_static_int_env(monkeypatch):
  monkeypatch.setenv('FLAXEN_TEST_INT', '7')
  assert configurations.static_int_env('FLAXEN_TEST_INT', None) == 7
  monkeypatch.setenv('FLAXEN_TEST_INT', 'seven')
  with pytest.raises(ValueError):
    configurations.static_int_env('FLAXEN_TEST_INT', None)


def test_define_bool_state_reads_the_environment(monkeypatch):
  monkeypatch.setenv('FLAX_TEST_ONLY_STATE_FLAG', 'on')
  holder = configurations.define_bool_state('test_only_state_flag', False, 'a test flag')
  try:
    assert holder.name == 'flax_test_only_state_flag'
    assert config.flax_test_only_state_flag is True
    assert holder.value is True
    with pytest.raises(RuntimeError, match='already defined'):
      configurations.define_bool_state('test_only_state_flag', False, 'again')
  finally:  # keep the global config as it was for the rest of the suite
    del config._help['flax_test_only_state_flag']
    object.__delattr__(config, 'flax_test_only_state_flag')


def test_env_override_in_a_fresh_process():
  env = dict(os.environ, FLAX_RETURN_FROZENDICT='true', FLAX_PROFILE='0', JAX_PLATFORMS='cpu')
  code = 'import flaxen; print(flaxen.config.flax_return_frozendict, flaxen.config.flax_profile)'
  out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                       check=True, timeout=120, cwd=ROOT)
  assert out.stdout.split() == ['True', 'False']


def test_bad_env_value_fails_at_import():
  env = dict(os.environ, FLAX_PROFILE='sometimes', JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', 'import flaxen'], env=env, capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
  assert out.returncode != 0
  assert 'FLAX_PROFILE' in out.stderr


def test_repr_lists_every_flag():
  text = repr(config)
  for name in DEFAULTS:
    assert name in text
