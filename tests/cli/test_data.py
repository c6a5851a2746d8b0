"""Data sources of the CLI: idx/npz MNIST loaders, digits and splits."""

import gzip
import struct
import sys

import numpy as np
import pytest

from flaxen._src.cli import data


def write_idx(path, array, code=0x08):
  """Writes ``array`` as an idx file (big-endian, as the format specifies)."""
  dtypes = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}
  header = bytes([0, 0, code, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape)
  payload = header + np.asarray(array, dtypes[code]).tobytes()
  opener = gzip.open if str(path).endswith('.gz') else open
  with opener(path, 'wb') as f:
    f.write(payload)
  return path


def write_mnist_dir(directory, n_train=6, n_test=4, size=5, gz=False, seed=0):
  rng = np.random.default_rng(seed)
  arrays = {
    'train-images-idx3-ubyte': rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
    'train-labels-idx1-ubyte': rng.integers(0, 10, (n_train,), dtype=np.uint8),
    't10k-images-idx3-ubyte': rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
    't10k-labels-idx1-ubyte': rng.integers(0, 10, (n_test,), dtype=np.uint8),
  }
  for name, array in arrays.items():
    write_idx(directory / (name + ('.gz' if gz else '')), array)
  return arrays


@pytest.mark.parametrize('code,dtype', [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                        (0x0C, np.int32), (0x0D, np.float32),
                                        (0x0E, np.float64)])
def test_read_idx_round_trips_every_element_type(tmp_path, code, dtype):
  array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
  if code == 0x08:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
  out = data.read_idx(write_idx(tmp_path / 'a.idx', array, code))
  assert out.dtype == np.dtype(dtype) and out.dtype.isnative
  np.testing.assert_array_equal(out, array)


def test_read_idx_gzip(tmp_path):
  array = np.arange(10, dtype=np.uint8)
  np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / 'x.gz', array)), array)


def test_read_idx_rejects_bad_files(tmp_path):
  bad_magic = tmp_path / 'bad_magic'
  bad_magic.write_bytes(b'\x01\x02\x08\x01\x00\x00\x00\x01x')
  with pytest.raises(data.DataError, match='bad_magic: not an idx file'):
    data.read_idx(bad_magic)
  unknown = tmp_path / 'unknown'
  unknown.write_bytes(b'\x00\x00\x07\x01\x00\x00\x00\x01x')
  with pytest.raises(data.DataError, match='unknown idx element type 0x07'):
    data.read_idx(unknown)
  truncated = write_idx(tmp_path / 'truncated', np.zeros((4, 4), np.uint8))
  truncated.write_bytes(truncated.read_bytes()[:-3])
  with pytest.raises(data.DataError, match=r'truncated: idx header announces shape \(4, 4\)'):
    data.read_idx(truncated)
  short_header = tmp_path / 'short'
  short_header.write_bytes(b'\x00\x00\x08\x03\x00\x00')
  with pytest.raises(data.DataError, match='header truncated'):
    data.read_idx(short_header)
  with pytest.raises(data.DataError, match='cannot read'):
    data.read_idx(tmp_path / 'missing')


@pytest.mark.parametrize('gz', [False, True])
def test_load_mnist_from_idx_directory(tmp_path, gz):
  raw = write_mnist_dir(tmp_path, gz=gz)
  ds = data.load_mnist(tmp_path)
  assert ds.train_images.shape == (6, 5, 5, 1) and ds.test_images.shape == (4, 5, 5, 1)
  assert ds.train_images.dtype == np.float32 and ds.train_labels.dtype == np.int32
  np.testing.assert_allclose(ds.train_images[..., 0],
                             raw['train-images-idx3-ubyte'] / np.float32(255), rtol=1e-6)
  np.testing.assert_array_equal(ds.test_labels, raw['t10k-labels-idx1-ubyte'])
  assert ds.image_shape == (5, 5, 1) and ds.name == f'mnist:{tmp_path}'


def test_load_mnist_missing_file_names_it(tmp_path):
  write_mnist_dir(tmp_path)
  (tmp_path / 't10k-labels-idx1-ubyte').unlink()
  with pytest.raises(data.DataError, match='t10k-labels-idx'):
    data.load_mnist(tmp_path)


def test_load_mnist_inconsistent_counts(tmp_path):
  write_mnist_dir(tmp_path)
  write_idx(tmp_path / 'train-labels-idx1-ubyte', np.zeros(5, np.uint8))
  with pytest.raises(data.DataError, match=r'6 images but labels of shape \(5,\)'):
    data.load_mnist(tmp_path)


def test_load_mnist_npz(tmp_path):
  rng = np.random.default_rng(1)
  arrays = dict(x_train=rng.integers(0, 256, (7, 4, 4), dtype=np.uint8),
                y_train=np.arange(7) % 10, x_test=rng.integers(0, 256, (3, 4, 4), dtype=np.uint8),
                y_test=np.array([9, 0, 1]))
  np.savez(tmp_path / 'mnist.npz', **arrays)
  ds = data.load_mnist(tmp_path / 'mnist.npz')
  assert ds.train_images.shape == (7, 4, 4, 1)
  np.testing.assert_array_equal(ds.test_labels, [9, 0, 1])
  assert float(ds.train_images.max()) <= 1.0


def test_load_mnist_npz_problems(tmp_path):
  np.savez(tmp_path / 'partial.npz', x_train=np.zeros((2, 4, 4)), y_train=np.zeros(2, int))
  with pytest.raises(data.DataError, match=r"missing array\(s\) \['x_test', 'y_test'\]"):
    data.load_mnist(tmp_path / 'partial.npz')
  np.savez(tmp_path / 'labels.npz', x_train=np.zeros((2, 4, 4)), y_train=np.array([0, 10]),
           x_test=np.zeros((1, 4, 4)), y_test=np.array([1]))
  with pytest.raises(data.DataError, match=r'labels must lie in \[0, 10\), found 0..10'):
    data.load_mnist(tmp_path / 'labels.npz')
  np.savez(tmp_path / 'floats.npz', x_train=np.zeros((2, 4, 4)), y_train=np.array([0.5, 1.0]),
           x_test=np.zeros((1, 4, 4)), y_test=np.array([1]))
  with pytest.raises(data.DataError, match='labels must be integers'):
    data.load_mnist(tmp_path / 'floats.npz')
  (tmp_path / 'junk.npz').write_bytes(b'not a zip file')
  with pytest.raises(data.DataError, match=r'junk.npz: not a valid .npz archive \(not a zip'):
    data.load_mnist(tmp_path / 'junk.npz')
  np.savez(tmp_path / 'objects.npz', x_train=np.array([{}], dtype=object), y_train=np.zeros(1),
           x_test=np.zeros(1), y_test=np.zeros(1))
  with pytest.raises(data.DataError, match='objects.npz: not a valid .npz archive: it holds '
                                           r'Python objects \(pickled data\)') as info:
    data.load_mnist(tmp_path / 'objects.npz')
  assert 'allow_pickle' not in str(info.value)  # numpy's hint is not for our users
  with pytest.raises(data.DataError, match='no such file'):
    data.load_mnist(tmp_path / 'nowhere')
  (tmp_path / 'x.txt').write_text('x')
  with pytest.raises(data.DataError, match='expected a directory of MNIST idx files'):
    data.load_mnist(tmp_path / 'x.txt')


def test_split_is_deterministic_disjoint_and_complete():
  x = np.arange(50, dtype=np.float32)[:, None, None, None]
  y = np.arange(50) % 10
  a = data.split(x, y, 0.2, seed=3)
  b = data.split(x, y, 0.2, seed=3)
  for u, v in zip(a, b):
    np.testing.assert_array_equal(u, v)
  train_x, train_y, test_x, test_y = a
  assert len(test_x) == 10 and len(train_x) == 40
  assert sorted(np.concatenate([train_x, test_x]).ravel().tolist()) == list(range(50))
  np.testing.assert_array_equal(train_y, train_x.ravel().astype(int) % 10)
  other = data.split(x, y, 0.2, seed=4)[2]
  assert not np.array_equal(other, test_x)
  with pytest.raises(data.DataError):
    data.split(x, y, 1.0, seed=0)


def test_subset():
  x = np.zeros((10, 2, 2, 1), np.float32)
  y = np.arange(10, dtype=np.int32)
  ds = data.Dataset('toy', x, y, x[:4], y[:4]).subset(train=5, test=2)
  assert ds.train_labels.tolist() == [0, 1, 2, 3, 4] and ds.test_labels.tolist() == [0, 1]
  assert ds.name == 'toy[subset]'
  with pytest.raises(data.DataError):
    ds.subset(train=0)


def test_load_digits():
  pytest.importorskip('sklearn')
  ds = data.load_digits()
  assert ds.train_images.shape[1:] == data.DIGITS_SHAPE
  assert ds.train_images.shape[0] + ds.test_images.shape[0] == 1797
  assert ds.test_images.shape[0] == 359
  assert 0.0 <= ds.train_images.min() and ds.train_images.max() == 1.0
  assert sorted(set(ds.train_labels.tolist())) == list(range(10))
  again = data.load_digits()
  np.testing.assert_array_equal(ds.test_labels, again.test_labels)


def test_load_digits_without_scikit_learn(monkeypatch):
  monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
  with pytest.raises(data.MissingExtraError, match=r"pip install 'flaxen\[demo\]'"):
    data.load_dataset(None)
