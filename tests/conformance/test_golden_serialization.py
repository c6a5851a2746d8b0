"""Golden serialization data (tests/conformance/golden_data/serialization): byte-identical msgpack.

For each manifest entry: ``to_bytes(tree)`` equals the reference bytes (or their
sha256/length for the 1 GiB entry), ``to_state_dict(tree)`` and
``msgpack_restore(reference bytes)`` match the described trees (types, shapes,
dtypes, key order, scalar values), the restored values equal the tree's, and
``to_bytes(from_bytes(tree, bytes))`` gives the same bytes again.

The namespace is built lazily: an entry only imports the flaxen modules its
source names (``nn``, ``train_state``, ...), so entries that need a module that
does not exist yet fail on their own without affecting the others.
"""

import ast
import collections
import functools
import hashlib
import importlib
import json
import pathlib
import sys
import types

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import optax
import pytest

from flaxen import serialization

ROOT = pathlib.Path(__file__).resolve().parent / "golden_data" / "serialization"
MANIFEST = ROOT / "manifest.json"
# no fallback: a missing manifest must fail the collection loudly
ENTRIES = json.loads(MANIFEST.read_text())["entries"]

_BASE = {
  "np": np, "jnp": jnp, "jax": jax, "ml_dtypes": ml_dtypes, "collections": collections,
  "functools": functools, "optax": optax, "serialization": serialization,
}  # fmt: skip
# names that import a flaxen module other than serialization: loaded only when used
_LAZY = {
  "nn": lambda: importlib.import_module("flaxen.linen"),
  "struct": lambda: importlib.import_module("flaxen.struct"),
  "core": lambda: importlib.import_module("flaxen.core"),
  "freeze": lambda: importlib.import_module("flaxen.core").freeze,
  "train_state": lambda: importlib.import_module("flaxen.training.train_state"),
}


def build_tree(entry: dict):
  text = entry.get("source", "") + "\n" + entry["expr"]
  used = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
  mod = types.ModuleType(f"golden_serialization_{entry['name']}")
  mod.__dict__.update(_BASE)
  mod.__dict__.update({name: load() for name, load in _LAZY.items() if name in used})
  sys.modules[mod.__name__] = mod
  try:
    if entry.get("source"):
      exec(compile(entry["source"], mod.__name__, "exec"), mod.__dict__)
    return eval(entry["expr"], mod.__dict__)
  finally:
    del sys.modules[mod.__name__]


def describe(x):
  """The manifest's description of a value (see the golden README)."""
  if isinstance(x, dict):
    return {"dict": {k: describe(v) for k, v in x.items()}}
  if isinstance(x, (list, tuple)):
    return {type(x).__name__: [describe(v) for v in x]}
  if x is None:
    return {"None": None}
  if isinstance(x, (bool, int, float, str)):
    return {type(x).__name__: x}
  if isinstance(x, complex):
    return {"complex": [x.real, x.imag]}
  if isinstance(x, bytes):
    return {"bytes": x.hex()}
  if isinstance(x, np.generic):
    return {"npscalar": {"dtype": np.asarray(x).dtype.name}}
  if isinstance(x, np.ndarray):
    return {"ndarray": {"shape": list(x.shape), "dtype": x.dtype.name}}
  if isinstance(x, jax.Array):
    return {"jax.Array": {"shape": list(x.shape), "dtype": x.dtype.name}}
  raise AssertionError(f"unexpected leaf {type(x)}")


def assert_same_description(actual, expected):
  # json.dumps keeps key order, so this also checks the order of dict keys
  assert json.dumps(describe(actual)) == json.dumps(expected)


def leaves(x):
  if isinstance(x, dict):
    return [leaf for v in x.values() for leaf in leaves(v)]
  return [x]


def assert_same_values(actual, expected):
  for a, e in zip(leaves(actual), leaves(expected), strict=True):
    a_arr, e_arr = np.asarray(a), np.asarray(e)
    if a_arr.dtype.kind in "biufcmM" or a_arr.dtype.itemsize == e_arr.dtype.itemsize:
      # compare bit patterns: exact, NaN-safe, and works for bfloat16/float8
      a_bits = np.ascontiguousarray(a_arr).view(np.uint8) if a_arr.ndim else a_arr.tobytes()
      e_bits = np.ascontiguousarray(e_arr).view(np.uint8) if e_arr.ndim else e_arr.tobytes()
      assert a_arr.shape == e_arr.shape and a_arr.dtype == e_arr.dtype
      assert np.array_equal(a_bits, e_bits) if a_arr.ndim else a_bits == e_bits
    else:
      assert a == e


def with_chunk_size(entry, fn):
  size = entry.get("max_chunk_size")
  if size is None:
    return fn()
  old = serialization.MAX_CHUNK_SIZE
  serialization.MAX_CHUNK_SIZE = size
  try:
    return fn()
  finally:
    serialization.MAX_CHUNK_SIZE = old


SMALL = [e for e in ENTRIES if not e.get("large")]
LARGE = [e for e in ENTRIES if e.get("large")]


def test_manifest_has_twenty_entries(golden_dir):
  assert len(ENTRIES) == 20
  assert len(LARGE) == 1


@pytest.mark.parametrize("entry", SMALL, ids=[e["name"] for e in SMALL])
def test_golden_entry(entry, golden_dir):
  expected = (ROOT / entry["file"]).read_bytes()
  assert len(expected) == entry["nbytes"]
  assert hashlib.sha256(expected).hexdigest() == entry["sha256"]
  tree = build_tree(entry)

  state = with_chunk_size(entry, lambda: serialization.to_state_dict(tree))
  assert_same_description(state, entry["state_dict"])
  data = with_chunk_size(entry, lambda: serialization.to_bytes(tree))
  assert data == expected

  restored = serialization.msgpack_restore(expected)
  assert_same_description(restored, entry["restored"])
  assert_same_values(restored, state)

  again = with_chunk_size(
    entry, lambda: serialization.to_bytes(serialization.from_bytes(tree, expected))
  )
  assert again == expected


@pytest.mark.slow
@pytest.mark.parametrize("entry", LARGE, ids=[e["name"] for e in LARGE])
def test_golden_large_entry(entry, golden_dir):
  # ~1 GiB: keep at most a few copies alive (tree, bytes, one restored copy)
  tree = build_tree(entry)
  assert_same_description(serialization.to_state_dict(tree), entry["state_dict"])
  data = serialization.to_bytes(tree)
  assert len(data) == entry["nbytes"]
  assert data[:256].hex() == entry["head_hex"]
  assert data[-64:].hex() == entry["tail_hex"]
  assert hashlib.sha256(data).hexdigest() == entry["sha256"]

  restored = serialization.msgpack_restore(data)
  assert_same_description(restored, entry["restored"])
  assert np.array_equal(restored["tail"], tree["tail"])
  assert restored["emb"][:1000].tobytes() == tree["emb"][:1000].tobytes()
  assert restored["emb"][-1000:].tobytes() == tree["emb"][-1000:].tobytes()
  del restored

  again = serialization.to_bytes(serialization.from_bytes(tree, data))
  assert again == data  # implies every restored byte equals the tree's
