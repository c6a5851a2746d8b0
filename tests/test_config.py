"""flaxen.config: flags, env overrides, update, temp_flip_flag."""

import os
import pathlib
import re
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
  # NNX-only flags of the reference: readable and updatable, read by nothing in flaxen
  'flax_use_flaxlib': False,
  'flax_array_ref': False,
  'flax_pytree_module': True,
  'flax_max_repr_depth': None,
  'flax_always_shard_variable': True,
  'flax_hijax_variable': False,
  'nnx_graph_mode': True,
  'nnx_graph_updates': True,
}
# the reference's module-level holders (``flax_fix_rng`` holds 'flax_fix_rng_separator')
HOLDERS = {
  'flax_filter_frames': 'flax_filter_frames', 'flax_profile': 'flax_profile',
  'flax_use_orbax_checkpointing': 'flax_use_orbax_checkpointing',
  'flax_preserve_adopted_names': 'flax_preserve_adopted_names',
  'flax_return_frozendict': 'flax_return_frozendict', 'flax_fix_rng': 'flax_fix_rng_separator',
  'flax_use_flaxlib': 'flax_use_flaxlib', 'flax_array_ref': 'flax_array_ref',
  'flax_pytree_module': 'flax_pytree_module', 'flax_max_repr_depth': 'flax_max_repr_depth',
  'flax_always_shard_variable': 'flax_always_shard_variable',
  'flax_hijax_variable': 'flax_hijax_variable', 'nnx_graph_mode': 'nnx_graph_mode',
  'nnx_graph_updates': 'nnx_graph_updates',
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
  with pytest.raises(LookupError, match='^Unrecognized config option: flax_no_such_flag '):
    config.update('flax_no_such_flag', True)
  with pytest.raises(AttributeError, match="'Config' object has no attribute 'flax_no_such_flag'"):
    config.flax_no_such_flag


def test_update_stores_any_value_like_the_reference():
  old = config.flax_profile
  try:
    config.update('flax_profile', 'yes')  # untyped: no validation, as in the reference
    assert config.flax_profile == 'yes'
    assert configurations.flax_profile.value == 'yes'
  finally:
    config.update('flax_profile', old)


@pytest.mark.parametrize('module_name,flag', sorted(HOLDERS.items()))
def test_module_level_holders(module_name, flag):
  holder = getattr(configurations, module_name)
  assert isinstance(holder, configurations.FlagHolder)
  assert holder.name == flag
  assert holder.value is getattr(config, flag)
  assert holder.__doc__.startswith(f'Flag holder for `{flag}`.')
  # the reference strips four characters of the ``flax_`` prefix
  assert holder.__name__ == (flag[4:] if flag.startswith('flax_') else flag)


def test_typed_update_through_every_holder():
  for module_name, flag in HOLDERS.items():
    holder = getattr(configurations, module_name)
    old = holder.value
    new = 3 if flag == 'flax_max_repr_depth' else (not old)
    try:
      config.update(holder, new)
      assert getattr(config, flag) == new and holder.value == new
    finally:
      config.update(holder, old)


def test_update_accepts_a_flag_holder():
  holder = configurations.flax_fix_rng_separator
  assert holder.value is config.flax_fix_rng_separator
  with config.temp_flip_flag('fix_rng_separator', True):
    assert holder.value is True
  config.update(holder, False)
  assert config.flax_fix_rng_separator is False
  with pytest.raises(TypeError, match=re.escape(
      "bool() not supported for instances of type 'FlagHolder' "
      "(did you mean to use 'FlagHolder.value' instead?)")):
    bool(holder)


def test_direct_assignment_of_a_flag_is_refused():
  with pytest.raises(AttributeError, match="property of 'Config' object has no setter.*update"):
    config.flax_profile = False
  assert config.flax_profile is True


def test_other_attributes_are_ordinary(monkeypatch):
  # the reference's Config is a plain object: only flag names are read-only
  monkeypatch.setattr(config, 'my_own_note', 1, raising=False)
  assert config.my_own_note == 1


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
  # an unknown flag raises the reference's AttributeError, and nothing changes
  with pytest.raises(AttributeError, match="'Config' object has no attribute 'flax_not_a_flag'"):
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
  monkeypatch.setenv('FLAXEN_TEST_BOOL', 'Maybe')
  # the reference's text: the lower-cased value and the variable
  with pytest.raises(ValueError, match=re.escape(
      "invalid truth value 'maybe' for environment 'FLAXEN_TEST_BOOL'")):
    configurations.static_bool_env('FLAXEN_TEST_BOOL', True)


def test_static_bool_env_parses_the_default_like_a_value(monkeypatch):
  # the reference reads ``os.getenv(name, str(default))``: a default is spelled, not cast
  monkeypatch.delenv('FLAXEN_TEST_BOOL', raising=False)
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', 'false') is False
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', 'On') is True
  assert configurations.static_bool_env('FLAXEN_TEST_BOOL', 0) is False
  with pytest.raises(ValueError, match="invalid truth value 'maybe' for environment"):
    configurations.static_bool_env('FLAXEN_TEST_BOOL', 'maybe')


def test_static_int_env(monkeypatch):
  monkeypatch.setenv('FLAXEN_TEST_INT', '7')
  assert configurations.static_int_env('FLAXEN_TEST_INT', None) == 7
  monkeypatch.setenv('FLAXEN_TEST_INT', ' 8 ')
  assert configurations.static_int_env('FLAXEN_TEST_INT', None) == 8
  monkeypatch.delenv('FLAXEN_TEST_INT')
  assert configurations.static_int_env('FLAXEN_TEST_INT', 3) == 3
  assert configurations.static_int_env('FLAXEN_TEST_INT', None) is None
  monkeypatch.setenv('FLAXEN_TEST_INT', 'seven')
  with pytest.raises(ValueError, match=re.escape(
      "invalid integer value 'seven' for environment 'FLAXEN_TEST_INT'")):
    configurations.static_int_env('FLAXEN_TEST_INT', None)


def _forget(name):
  del config._help[name]
  object.__delattr__(config, name)


def test_bool_flag_and_int_flag_define_new_flags(monkeypatch):
  monkeypatch.setenv('FLAX_TEST_ONLY_INT', '5')
  monkeypatch.delenv('FLAX_TEST_ONLY_BOOL', raising=False)
  b = configurations.bool_flag('FLAX_Test_Only_Bool', default=True, help='a bool')
  i = configurations.int_flag('flax_test_only_int', default=1, help='an int')
  try:
    assert b.name == 'flax_test_only_bool' and config.flax_test_only_bool is True
    assert i.value == 5 and config.flax_test_only_int == 5  # from the environment
    assert 'flax_test_only_int=5' in repr(config)
    config.update(i, 6)
    assert config.flax_test_only_int == 6
    with pytest.raises(RuntimeError, match='^Config option flax_test_only_int already defined$'):
      configurations.int_flag('flax_test_only_int', default=1, help='again')
  finally:
    _forget('flax_test_only_bool')
    _forget('flax_test_only_int')


def test_bad_environment_value_for_a_new_flag(monkeypatch):
  monkeypatch.setenv('FLAX_TEST_ONLY_BAD', 'perhaps')
  with pytest.raises(ValueError, match="invalid truth value 'perhaps' for environment"):
    configurations.bool_flag('flax_test_only_bad', default=False, help='h')
  assert 'flax_test_only_bad' not in config.values


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
    _forget('flax_test_only_state_flag')


def test_env_override_in_a_fresh_process():
  env = dict(os.environ, FLAX_RETURN_FROZENDICT='true', FLAX_PROFILE='0', JAX_PLATFORMS='cpu',
             FLAX_MAX_REPR_DEPTH='4', NNX_GRAPH_MODE='off')
  code = ('import flaxen; c = flaxen.config; '
          'print(c.flax_return_frozendict, c.flax_profile, c.flax_max_repr_depth, c.nnx_graph_mode)')
  out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                       check=True, timeout=120, cwd=ROOT)
  assert out.stdout.split() == ['True', 'False', '4', 'False']


def test_bad_env_value_fails_at_import():
  env = dict(os.environ, FLAX_PROFILE='sometimes', JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', 'import flaxen'], env=env, capture_output=True,
                       text=True, timeout=120, cwd=ROOT)
  assert out.returncode != 0
  assert 'FLAX_PROFILE' in out.stderr


def test_repr_lists_every_flag_in_the_reference_layout():
  text = repr(config)
  for name in DEFAULTS:
    assert name in text
  # 'Config(' then one '\n  name=value' per flag, joined by ', ', then '\n)'
  lines = text.split('\n')
  assert lines[0] == 'Config(' and lines[-1] == ')'
  assert lines[1] == f'  flax_filter_frames={config.flax_filter_frames!r}, '
  assert all(line.startswith('  ') and line.endswith(', ') for line in lines[1:-2])
  assert not lines[-2].endswith(',')
  assert len(lines) == len(config.values) + 2
