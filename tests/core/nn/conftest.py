"""Helpers of the functional-layer tests: bit-exact digests of init/apply results.

The expected hashes in these tests were produced by running the same case code with
the reference (flax 0.12.8, jax 0.10.2) on CPU. A leaf's digest is ``dtype[shape]:sha1``
of its bytes, keyed by its pytree path; a case is summarised by one short hash of all
its leaves' digests for the init output, the variables and the apply output.
"""

import hashlib

import jax
import numpy as np
import pytest


def digest(tree):
  """``{path: 'dtype[shape]:hash'}`` for every leaf of ``tree``."""
  out = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    a = np.asarray(leaf)
    h = hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()[:12]
    out[jax.tree_util.keystr(path)] = f"{a.dtype}{list(a.shape)}:{h}"
  return out


def combined(tree):
  """One short hash of ``digest(tree)`` (paths, dtypes, shapes and bytes of every leaf)."""
  text = repr(sorted(digest(tree).items()))
  return hashlib.sha1(text.encode()).hexdigest()[:12]


def run_case(core, fn, args, kwargs=None, mutable=False):
  """Hashes of ``init(fn)`` (output and variables) and of ``apply(fn)`` on those variables."""
  kwargs = kwargs or {}
  rngs = {"params": jax.random.key(0), "dropout": jax.random.key(7)}
  y, variables = core.init(fn)(rngs, *args, **kwargs)
  applied = core.apply(fn, mutable=mutable)(variables, *args, rngs={"dropout": jax.random.key(9)},
                                            **kwargs)
  return {"init": combined(y), "vars": combined(variables), "apply": combined(applied)}


@pytest.fixture(name="run_case")
def _run_case():
  return run_case
