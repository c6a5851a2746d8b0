"""flaxen.io: the reference's file-system shim, checked against what flax.io does without TF."""

import logging
import os
import pathlib

import pytest

from flaxen import errors, io


@pytest.fixture(autouse=True)
def _default_mode():
  with io.override_mode(io.BackendMode.DEFAULT):
    yield


def test_public_surface():
  names = """BackendMode GFile NotFoundError copy exists getsize gfile glob io_mode isdir listdir
    makedirs override_mode remove rename rmtree set_mode""".split()
  assert not [n for n in names if not hasattr(io, n)]
  assert set(names) <= set(dir(io))
  assert [m.name for m in io.BackendMode] == ['DEFAULT', 'TF']
  assert (io.BackendMode.DEFAULT.value, io.BackendMode.TF.value) == (0, 1)
  assert io.GFile.__module__ == 'flaxen.io' and io.BackendMode.__module__ == 'flaxen.io'


def test_without_tensorflow_the_default_backend_is_local():
  try:
    import tensorflow  # noqa: F401
  except ImportError:
    pass
  else:
    pytest.skip('tensorflow is installed')
  assert io.gfile is None
  assert io.NotFoundError is FileNotFoundError


def test_files_and_directories(tmp_path):
  d = str(tmp_path)
  assert io.listdir(d) == [] and io.isdir(d) and io.exists(d)
  with io.GFile(os.path.join(d, 'a.txt'), 'w') as f:  # text mode writes UTF-8
    assert f.write('héllo') == 5
  assert io.getsize(os.path.join(d, 'a.txt')) == 6
  with io.GFile(os.path.join(d, 'a.txt'), 'rb') as f:
    assert f.read() == 'héllo'.encode()
  io.copy(os.path.join(d, 'a.txt'), os.path.join(d, 'b.txt'))
  io.rename(os.path.join(d, 'b.txt'), os.path.join(d, 'c.txt'))
  io.makedirs(os.path.join(d, 'x', 'y'))
  io.makedirs(os.path.join(d, 'x', 'y'))  # exist_ok
  assert sorted(io.glob(os.path.join(d, '*'))) == [os.path.join(d, n) for n in ('a.txt', 'c.txt', 'x')]
  assert io.glob(d + '/') == [d]  # trailing slashes are stripped
  assert io.listdir(os.path.join(d, 'x')) == ['y']
  io.remove(os.path.join(d, 'c.txt'))
  io.rmtree(os.path.join(d, 'x'))
  assert sorted(io.listdir(d)) == ['a.txt']
  assert io.listdir(pathlib.Path(d)) == ['a.txt']  # path-like objects work too


def test_copy_and_rename_refuse_to_replace(tmp_path):
  a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
  for p, text in ((a, 'A'), (b, 'B')):
    with io.GFile(p, 'w') as f:
      f.write(text)
  for fn in (io.copy, io.rename):
    with pytest.raises(errors.AlreadyExistsError) as e:
      fn(a, b)
    assert f'Trying overwrite an existing file: "{b}".' in str(e.value)
  io.copy(a, b, overwrite=True)
  assert pathlib.Path(b).read_text() == 'A'
  io.rename(b, a, overwrite=True)
  assert not os.path.exists(b) and pathlib.Path(a).read_text() == 'A'


def test_os_errors_pass_through(tmp_path):
  (tmp_path / 'f').write_text('x')
  (tmp_path / 'd').mkdir()
  with pytest.raises(io.NotFoundError):
    io.listdir(str(tmp_path / 'missing'))
  with pytest.raises(IsADirectoryError):
    io.remove(str(tmp_path / 'd'))
  with pytest.raises(NotADirectoryError):
    io.rmtree(str(tmp_path / 'f'))
  with pytest.raises(ValueError, match='exactly one of create/read/write/append'):
    io.GFile(str(tmp_path / 'f'), 'r+x')


def test_modes_override_set_and_unknown(tmp_path):
  assert io.io_mode is io.BackendMode.DEFAULT
  with io.override_mode(io.BackendMode.TF):
    assert io.io_mode is io.BackendMode.TF
    if io.gfile is None:  # TF mode without tensorflow fails like the reference, with a hint
      with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'exists'"):
        io.exists(str(tmp_path))
  assert io.io_mode is io.BackendMode.DEFAULT
  io.set_mode('bogus')
  try:
    with pytest.raises(ValueError, match='^Unknown IO Backend Mode.$'):
      io.exists(str(tmp_path))
  finally:
    io.set_mode(io.BackendMode.DEFAULT)
  io.io_mode = io.BackendMode.TF  # rebinding the module attribute sets the mode
  try:
    assert io.io_mode is io.BackendMode.TF
  finally:
    io.io_mode = io.BackendMode.DEFAULT
  assert io.exists(str(tmp_path))


def test_override_restores_the_mode_after_an_error():
  with pytest.raises(RuntimeError):
    with io.override_mode(io.BackendMode.TF):
      raise RuntimeError('boom')
  assert io.io_mode is io.BackendMode.DEFAULT


def test_remote_paths_warn_once_without_tensorflow(caplog, monkeypatch):
  from flaxen._src import io as impl

  monkeypatch.setattr(impl._State, 'warned_remote', False)
  with caplog.at_level(logging.WARNING, logger='flaxen._src.io'):
    assert not io.exists('gs://bucket/ckpt')
    assert not io.exists('gs://bucket/other')
  warnings = [r for r in caplog.records if 'cannot be accessed' in r.getMessage()]
  assert len(warnings) == 1
  assert "GCS paths (i.e. 'gs://...') cannot be accessed." in warnings[0].getMessage()
