"""In-memory image-classification data: digits, MNIST files, deterministic splits.

Sources (never the network):
  * ``load_digits``: scikit-learn's bundled 8x8 digits (1,797 images), split
    deterministically into train and test (``split_seed``); needs the ``demo``
    extra (``pip install 'flaxen[demo]'``);
  * ``load_mnist(path)``: the four MNIST idx files in a directory
    (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally
    ``.gz``), or one ``.npz`` with ``x_train, y_train, x_test, y_test``.

Invariants: images are ``float32`` in ``[0, 1]`` shaped ``(N, H, W, C)``;
labels are ``int32`` in ``[0, num_classes)``. Bad files raise ``DataError``
naming the file and what is wrong with it. Batching is the public loop's
``flaxen.training.loop.ArrayBatches``.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import struct
import zipfile
from typing import Any

import numpy as np

# idx type codes -> big-endian numpy dtypes (the format's specification).
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
  0x08: np.dtype('u1'), 0x09: np.dtype('i1'), 0x0B: np.dtype('>i2'),
  0x0C: np.dtype('>i4'), 0x0D: np.dtype('>f4'), 0x0E: np.dtype('>f8'),
}
_MNIST_FILES = {
  'x_train': ('train', 'images'), 'y_train': ('train', 'labels'),
  'x_test': ('t10k', 'images'), 'y_test': ('t10k', 'labels'),
}


class DataError(ValueError):
  """A data file is missing, malformed or inconsistent; the message names it."""


class MissingExtraError(ImportError):
  """An optional dependency of a data source is not installed; the message says which."""


@dataclasses.dataclass(frozen=True)
class Dataset:
  """A train/test pair of image arrays held in memory.

  Attributes:
    name: short description printed by the CLI (``digits``, ``mnist:<path>``).
    train_images, test_images: ``float32[N, H, W, C]`` in ``[0, 1]``.
    train_labels, test_labels: ``int32[N]``.
    num_classes: number of label values.
  """

  name: str
  train_images: np.ndarray
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray
  num_classes: int = 10

  @property
  def image_shape(self) -> tuple[int, ...]:
    return tuple(self.train_images.shape[1:])

  def subset(self, train: int | None = None, test: int | None = None) -> Dataset:
    """The first ``train`` training and ``test`` test examples (None keeps all)."""
    for what, n in (('train', train), ('test', test)):
      if n is not None and n < 1:
        raise DataError(f'a {what} subset needs at least one example, got {n}')
    name = self.name if train is None and test is None else f'{self.name}[subset]'
    return dataclasses.replace(
      self, name=name,
      train_images=self.train_images[:train], train_labels=self.train_labels[:train],
      test_images=self.test_images[:test], test_labels=self.test_labels[:test],
    )


def _check_pair(source: str, images: np.ndarray, labels: np.ndarray, num_classes: int) -> None:
  if images.ndim != 4:
    raise DataError(f'{source}: images must be (N, H, W) or (N, H, W, C), got {images.shape}')
  if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
    raise DataError(
      f'{source}: {images.shape[0]} images but labels of shape {labels.shape}'
    )
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise DataError(
      f'{source}: labels must lie in [0, {num_classes}), found {labels.min()}..{labels.max()}'
    )


def _as_images(source: str, raw: np.ndarray) -> np.ndarray:
  """``(N,H,W[,C])`` of any numeric dtype -> ``float32`` in ``[0, 1]``."""
  raw = np.asarray(raw)
  if raw.ndim == 3:
    raw = raw[..., None]
  if not np.issubdtype(raw.dtype, np.number):
    raise DataError(f'{source}: images must be numeric, got dtype {raw.dtype}')
  if np.issubdtype(raw.dtype, np.integer):
    scale = 255.0 if raw.size == 0 or raw.max() > 1 else 1.0
    return (raw.astype(np.float32) / scale).astype(np.float32)
  images = raw.astype(np.float32)
  if images.size and images.max() > 1.0:
    images = images / np.float32(255.0)
  return images


def _as_labels(source: str, raw: np.ndarray) -> np.ndarray:
  raw = np.asarray(raw)
  if not np.issubdtype(raw.dtype, np.integer):
    raise DataError(f'{source}: labels must be integers, got dtype {raw.dtype}')
  return raw.astype(np.int32)


def split(images: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int):
  """Deterministic shuffled split: ``(train_x, train_y, test_x, test_y)``.

  The same ``seed`` always gives the same split (numpy's PCG64 generator).
  """
  if not 0.0 < test_fraction < 1.0:
    raise DataError(f'test_fraction must lie strictly between 0 and 1, got {test_fraction}')
  n = images.shape[0]
  n_test = max(1, int(round(n * test_fraction)))
  if n_test >= n:
    raise DataError(f'cannot split {n} examples into non-empty train and test parts')
  perm = np.random.default_rng(seed).permutation(n)
  test_idx, train_idx = perm[:n_test], perm[n_test:]
  return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def load_digits(test_fraction: float = 0.2, split_seed: int = 0) -> Dataset:
  """scikit-learn's 8x8 digits (values 0..16 scaled to ``[0, 1]``), split in two.

  Raises:
    MissingExtraError: scikit-learn is not installed (the message says how to get it).
  """
  try:
    from sklearn.datasets import load_digits as sk_load_digits
  except ImportError as e:
    raise MissingExtraError(
      "the bundled digits data set comes with scikit-learn: pip install 'flaxen[demo]' "
      '(or pass --data PATH to local MNIST files)'
    ) from e
  raw = sk_load_digits()
  images = (np.asarray(raw.images, np.float32) / np.float32(16.0))[..., None]
  labels = np.asarray(raw.target, np.int32)
  tx, ty, vx, vy = split(images, labels, test_fraction, split_seed)
  return Dataset('digits', tx, ty, vx, vy, num_classes=10)


#: image shape of ``load_digits`` (known without loading it)
DIGITS_SHAPE = (8, 8, 1)


def read_idx(path: str | os.PathLike) -> np.ndarray:
  """Reads one idx file (optionally gzip-compressed) into a native-endian array.

  Raises:
    DataError: the file is not a complete idx file.
  """
  path = os.fspath(path)
  opener = gzip.open if path.endswith('.gz') else open
  try:
    with opener(path, 'rb') as f:
      data = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f'{path}: cannot read idx file ({e})') from e
  if len(data) < 4 or data[0] != 0 or data[1] != 0:
    raise DataError(f'{path}: not an idx file (bad magic number {data[:4].hex() or "<empty>"})')
  code, ndim = data[2], data[3]
  if code not in _IDX_DTYPES:
    raise DataError(f'{path}: unknown idx element type 0x{code:02x}')
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f'{path}: idx header truncated ({len(data)} bytes, needs {header})')
  dims = struct.unpack(f'>{ndim}I', data[4:header])
  dtype = _IDX_DTYPES[code]
  count = math.prod(dims)
  if len(data) - header != count * dtype.itemsize:
    raise DataError(
      f'{path}: idx header announces shape {dims} ({count * dtype.itemsize} bytes of data) '
      f'but the file holds {len(data) - header} bytes'
    )
  array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
  return array.astype(dtype.newbyteorder('='))


def _find_idx(directory: str, prefix: str, kind: str) -> str:
  names = sorted(os.listdir(directory))
  hits = [n for n in names if n.startswith(f'{prefix}-{kind}') and 'idx' in n]
  if not hits:
    raise DataError(
      f'{directory}: no MNIST file "{prefix}-{kind}-idx*-ubyte[.gz]" '
      f'(expected the four files train-images, train-labels, t10k-images, t10k-labels)'
    )
  plain = [n for n in hits if not n.endswith('.gz')]
  return os.path.join(directory, (plain or hits)[0])


def _read_npz(path: str) -> dict[str, tuple[np.ndarray, str]]:
  """The four MNIST arrays of an ``.npz`` archive, each with its source name."""
  if not zipfile.is_zipfile(path):
    raise DataError(f'{path}: not a valid .npz archive (not a zip file); expected the arrays '
                    f'x_train, y_train, x_test, y_test saved with numpy.savez')
  try:
    with np.load(path, allow_pickle=False) as npz:
      missing = [k for k in _MNIST_FILES if k not in npz.files]
      if missing:
        raise DataError(f'{path}: missing array(s) {missing}; found {sorted(npz.files)}')
      return {k: (npz[k], f'{path}[{k}]') for k in _MNIST_FILES}
  except DataError:
    raise
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
    what = ('holds Python objects (pickled data), not plain arrays'
            if 'pickle' in str(e) else f'is damaged ({type(e).__name__}: {e})')
    raise DataError(f'{path}: not a valid .npz archive: it {what}') from e


def load_mnist(path: str | os.PathLike, num_classes: int = 10) -> Dataset:
  """MNIST (or any same-format data) from local files; see the module docstring.

  Raises:
    DataError: missing or malformed files, inconsistent counts, bad labels.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    arrays = {
      key: (read_idx(f := _find_idx(path, prefix, kind)), f)
      for key, (prefix, kind) in _MNIST_FILES.items()
    }
  elif path.endswith('.npz') and os.path.isfile(path):
    arrays = _read_npz(path)
  elif not os.path.exists(path):
    raise DataError(f'{path}: no such file or directory')
  else:
    raise DataError(f'{path}: expected a directory of MNIST idx files or an .npz file')
  parts = []
  for x_key, y_key in (('x_train', 'y_train'), ('x_test', 'y_test')):
    (x_raw, x_src), (y_raw, y_src) = arrays[x_key], arrays[y_key]
    images, labels = _as_images(x_src, x_raw), _as_labels(y_src, y_raw)
    _check_pair(f'{x_src} / {y_src}', images, labels, num_classes)
    parts += [images, labels]
  if parts[0].shape[1:] != parts[2].shape[1:]:
    raise DataError(
      f'{path}: train images {parts[0].shape[1:]} and test images {parts[2].shape[1:]} differ'
    )
  # (parts holds the four arrays: train images and labels, test images and labels)
  return Dataset(f'mnist:{path}', *parts, num_classes=num_classes)  # type: ignore[arg-type, misc]


def load_dataset(data: str | os.PathLike | None = None) -> Dataset:
  """``load_digits()`` when ``data`` is None or ``'digits'``, else ``load_mnist(data)``."""
  if data is None or os.fspath(data) == 'digits':
    return load_digits()
  return load_mnist(data)

