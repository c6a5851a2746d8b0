"""Settings of ``flaxen train``: flags and config files share one table and one check."""

import argparse
import sys

import pytest

from flaxen._src.cli import options
from flaxen._src.cli.options import UsageError


def parse(*argv):
  parser = options.OneLineParser(prog='t')
  options.add_train_flags(parser)
  return options.settings(parser.parse_args(list(argv)))


def test_defaults_and_flags():
  s = parse()
  assert s['model'] == 'cnn' and s['epochs'] == 8 and s['lr'] == 3e-3 and s['plot'] is True
  s = parse('--epochs', '3', '--lr', '1e-2', '--no-plot', '--seed', '7', '--patience', '2')
  assert (s['epochs'], s['lr'], s['plot'], s['seed'], s['patience']) == (3, 0.01, False, 7, 2)


@pytest.mark.parametrize('argv,message', [
  (['--seed', '-1'], '--seed: must be >= 0, got -1'),
  (['--seed', str(2**32)], f'--seed: must be <= {2**32 - 1}'),
  (['--lr', 'nan'], '--lr: must be a finite number, got nan'),
  (['--lr', 'inf'], '--lr: must be a finite number, got inf'),
  (['--lr', '0'], '--lr: must be > 0, got 0'),
  (['--batch-size', '0'], '--batch-size: must be >= 1, got 0'),
  (['--epochs', 'two'], "--epochs: expected an integer, got 'two'"),
  (['--optimizer', 'lion'], "--optimizer: must be one of adam, adamw, sgd, got 'lion'"),
  (['--resume', '--overwrite'], '--resume and --overwrite exclude each other'),
])
def test_bad_flags(argv, message):
  with pytest.raises(UsageError) as info:
    parse(*argv)
  assert str(info.value).startswith(message)


def test_parser_errors_are_one_line(capsys):
  with pytest.raises(SystemExit) as info:
    parse('--nope', '3')
  assert info.value.code == 2
  err = capsys.readouterr().err
  assert err == ('t: error: unrecognized arguments: --nope 3 (see t --help)\n')


def test_toml_config_and_precedence(tmp_path):
  path = tmp_path / 'run.toml'
  path.write_text('model = "mlp"\nbatch-size = 16\nlearning_rate = 0.01\nplot = false\n'
                  '[model_kwargs]\nhidden = 32\n')
  s = parse('--config', str(path), '--batch-size', '8')
  assert s['model'] == 'mlp' and s['batch_size'] == 8  # the flag wins
  assert s['lr'] == 0.01 and s['plot'] is False and s['model_kwargs'] == {'hidden': 32}


def test_yaml_config(tmp_path):
  pytest.importorskip('yaml')
  path = tmp_path / 'run.yaml'
  path.write_text('epochs: 2\noptimizer: sgd\nmomentum: 0.5\n')
  s = parse('--config', str(path))
  assert (s['epochs'], s['optimizer'], s['momentum']) == (2, 'sgd', 0.5)


def test_yaml_without_pyyaml_is_one_line(tmp_path, monkeypatch):
  monkeypatch.setitem(sys.modules, 'yaml', None)
  path = tmp_path / 'run.yml'
  path.write_text('epochs: 2\n')
  with pytest.raises(UsageError, match=r'^.*run.yml: reading YAML needs PyYAML: pip install '
                                       r'pyyaml \(or write the config as .toml\)$'):
    parse('--config', str(path))


@pytest.mark.parametrize('name,text,message', [
  ('a.toml', 'epochs = -1\n', 'a.toml: epochs: must be >= 0, got -1'),
  ('a.toml', 'batchsize = 3\n', "a.toml: unknown setting 'batchsize' (known: "),
  ('a.toml', 'epochs = = 3\n', 'a.toml: not valid TOML'),
  ('a.toml', 'epochs = 2.5\n', 'a.toml: epochs: expected an integer, got 2.5'),
  ('a.toml', 'plot = "maybe"\n', "a.toml: plot: expected true or false, got 'maybe'"),
  ('a.toml', 'model_kwargs = 3\n', 'a.toml: model_kwargs: expected a table'),
  ('a.yaml', '- 1\n- 2\n', 'a.yaml: expected a table of settings, got list'),
  ('a.yaml', 'epochs: [1\n', 'a.yaml: not valid YAML'),
  ('a.json', '{}', '--config '),
])
def test_bad_config_files(tmp_path, name, text, message):
  if name.endswith('.yaml'):
    pytest.importorskip('yaml')
  path = tmp_path / name
  path.write_text(text)
  with pytest.raises(UsageError) as info:
    parse('--config', str(path))
  assert message in str(info.value) and '\n' not in str(info.value)


def test_missing_config_file(tmp_path):
  with pytest.raises(UsageError, match='--config .*nope.toml: No such file or directory'):
    parse('--config', str(tmp_path / 'nope.toml'))


def test_error_line_joins_lines():
  assert options.error_line('p', 'a\n  b\n\nc') == 'p: error: a; b; c'


def test_every_option_has_a_flag_or_is_file_only():
  parser = argparse.ArgumentParser()
  options.add_train_flags(parser)
  flags = {a.dest for a in parser._actions}
  assert {o.dest for o in options.OPTIONS if o.flag} <= flags
  assert 'model_kwargs' not in flags
