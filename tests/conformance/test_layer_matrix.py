"""Conformance matrix: every public layer × {eager, jit, vmap} × {f32, bf16, f64}, plus nn.remat.

For each descriptor (``layer_descriptors.py``, plus the attention/recurrent
ones in ``layer_descriptors_rnn_attn.py`` when present):

* jit: ``jax.jit`` of init-then-apply; in float32 the variables equal an
  eager ``init``; in every dtype the output equals an eager ``apply`` of the
  same variables, params carry ``param_dtype`` and the output the computation
  dtype, finite;
* vmap: ``jax.vmap`` of ``apply`` over a batch of examples (variables fixed)
  equals applying each example alone;
* remat (float32): ``nn.remat`` gives the same variable tree (traced), the same
  output and the same parameter gradients.

float64 runs inside ``jax.enable_x64(True)``. A final test fails when a public
``nn.Module`` subclass exported by ``flaxen.linen`` has no descriptor.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from layer_descriptors import DESCRIPTORS, FLOAT_DTYPES, Layer

from flaxen import linen as nn


def _load_other_descriptors() -> dict[str, Layer]:
  path = pathlib.Path(__file__).with_name('layer_descriptors_rnn_attn.py')
  if not path.exists():
    return {}
  spec = importlib.util.spec_from_file_location('layer_descriptors_rnn_attn', path)
  mod = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = mod  # lets its dataclasses resolve string annotations
  spec.loader.exec_module(mod)
  return dict(getattr(mod, 'DESCRIPTORS', {}))


ALL = {**DESCRIPTORS, **_load_other_descriptors()}
TOL = {'float32': (2e-5, 2e-5), 'bfloat16': (3e-2, 3e-2), 'float64': (1e-10, 1e-10)}


def _x64(dtype_name: str):
  return jax.enable_x64(True) if dtype_name == 'float64' else contextlib.nullcontext()


def _close(a, b, dtype_name, what):
  rtol, atol = TOL[dtype_name]
  la, ta = jax.tree_util.tree_flatten(a)
  lb, tb = jax.tree_util.tree_flatten(b)
  assert ta == tb, f'{what}: tree structure differs: {ta} vs {tb}'
  for x, y in zip(la, lb):
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == y.shape and x.dtype == y.dtype, f'{what}: {x.shape}{x.dtype} vs {y.shape}{y.dtype}'
    if x.dtype.kind in 'iub' or x.dtype == bool:
      np.testing.assert_array_equal(x, y, err_msg=what)
    else:
      np.testing.assert_allclose(x.astype(np.float64), y.astype(np.float64), rtol=rtol, atol=atol,
                                 err_msg=what)


class Runner:
  """Builds one (layer, dtype) instance and the init/apply closures of the matrix."""

  def __init__(self, layer: Layer, dtype_name: str):
    self.layer, self.dtype_name = layer, dtype_name
    self.dtype = FLOAT_DTYPES[dtype_name]
    self.cls, self.args, self.kwargs = layer.build(self.dtype)
    self.module = self.cls(*self.args, **self.kwargs)
    self.inputs = tuple(jnp.asarray(x) for x in layer.inputs(self.dtype))
    self.key = jax.random.PRNGKey(0)
    self.rngs = {s: jax.random.PRNGKey(i + 1) for i, s in enumerate(layer.apply_rngs)} or None

  def init(self, module, key, *xs):
    return module.init(key, *xs, **self.layer.init_kwargs)

  def apply(self, module, variables, *xs):
    return module.apply(variables, *xs, rngs=self.rngs, mutable=list(self.layer.mutable) or False,
                        **self.layer.apply_kwargs)

  def output(self, result):
    return result[0] if self.layer.mutable else result


def _vmap_batch(x):
  if jnp.issubdtype(x.dtype, jnp.integer):
    return jnp.stack([x, (x + 1) % 3])
  return jnp.stack([x, (x * 0.5 + 1).astype(x.dtype)])


def _remat_pair(r: Runner):
  """(plain, rematted) modules with the same variable layout.

  Layers without call flags: the layer itself and ``nn.remat(cls)(...)``.
  Layers with keyword flags (``use_running_average``, ``update_stats``,
  ``deterministic``), which ``jax.checkpoint`` would trace: a host module
  that calls the layer through a function closing over the flags, once plain
  and once through ``nn.remat`` of that function (the layer lives under ``inner``).
  """
  if not (r.layer.init_kwargs or r.layer.apply_kwargs):
    return r.module, nn.remat(r.cls)(*r.args, **r.kwargs)

  def make_host(remat: bool):
    flags = {}

    def call(mdl, *xs):
      return mdl(*xs, **flags['kw'])

    class Host(nn.Module):
      inner: nn.Module

      @nn.compact
      def __call__(self, *xs, **kw):
        flags['kw'] = kw
        return (nn.remat(call) if remat else call)(self.inner, *xs)

    return Host(r.cls(*r.args, **r.kwargs))

  return make_host(False), make_host(True)


def _check(r: Runner) -> None:
  name, dtype_name, layer = r.layer.name, r.dtype_name, r.layer

  # jit: init and apply in one compiled function
  def init_and_apply(k, *xs):
    v = r.init(r.module, k, *xs)
    return v, r.apply(r.module, v, *xs)

  variables, res_jit = jax.jit(init_and_apply)(r.key, *r.inputs)
  if dtype_name == 'float32':  # eager init (other dtypes: the jitted init is the reference)
    _close(variables, r.init(r.module, r.key, *r.inputs), dtype_name, f'{name}: jit(init)')

  # eager apply: dtypes, finiteness, and agreement with the jitted apply
  result = r.apply(r.module, variables, *r.inputs)
  _close(res_jit, result, dtype_name, f'{name}: jit(apply)')
  if layer.param_dtype:
    for leaf in jax.tree_util.tree_leaves(variables.get('params', {})):
      assert leaf.dtype == r.dtype, f'{name}: param dtype {leaf.dtype}, expected {r.dtype}'
  for leaf in jax.tree_util.tree_leaves(r.output(result)):
    if layer.out_dtype:
      assert leaf.dtype == r.dtype, f'{name}: output dtype {leaf.dtype}, expected {r.dtype}'
    assert np.isfinite(np.asarray(leaf, np.float64)).all(), f'{name}: non-finite output'

  # vmap over apply with fixed variables (jitted: one compile instead of one per batched op)
  batch = tuple(_vmap_batch(x) for x in r.inputs)
  out = jax.jit(jax.vmap(lambda *xs: r.apply(r.module, variables, *xs)))(*batch)
  for i in range(2):
    alone = r.apply(r.module, variables, *(b[i] for b in batch))
    _close(jax.tree_util.tree_map(lambda o, i=i: o[i], out), alone, dtype_name,
           f'{name}: vmap(apply)[{i}]')

  # nn.remat (float32; the dtype axis is covered above): same variables, outputs and
  # parameter gradients as without remat.
  if dtype_name != 'float32':
    return
  plain, remat = _remat_pair(r)
  p_vars = variables if plain is r.module else r.init(plain, r.key, *r.inputs)
  # init under remat: same variable tree, shapes and dtypes (traced only, not compiled)
  shapes = jax.eval_shape(lambda k, *xs: r.init(remat, k, *xs), r.key, *r.inputs)
  assert jax.tree_util.tree_structure(shapes) == jax.tree_util.tree_structure(p_vars), name
  for s, v in zip(jax.tree_util.tree_leaves(shapes), jax.tree_util.tree_leaves(p_vars)):
    assert (s.shape, s.dtype) == (v.shape, v.dtype), f'{name}: remat init {s} vs {v.shape}'

  def loss(params, module):
    out = r.output(r.apply(module, {**p_vars, 'params': params}, *r.inputs))
    return sum(jnp.sum(o.astype(jnp.float32) ** 2) for o in jax.tree_util.tree_leaves(out))

  def both(params):
    res = {m: r.apply(mod, {**p_vars, 'params': params}, *r.inputs)
           for m, mod in (('plain', plain), ('remat', remat))}
    grads = {m: jax.grad(loss)(params, mod) for m, mod in (('plain', plain), ('remat', remat))}
    return res, grads

  res, grads = jax.jit(both)(p_vars.get('params', {}))
  _close(res['remat'], res['plain'], dtype_name, f'{name}: remat apply')
  _close(grads['remat'], grads['plain'], dtype_name, f'{name}: remat grad')


@pytest.mark.parametrize('dtype_name', list(FLOAT_DTYPES))
@pytest.mark.parametrize('name', sorted(ALL))
def test_layer_matrix(name, dtype_name):
  with _x64(dtype_name):
    _check(Runner(ALL[name], dtype_name))


def _public_module_classes() -> set[str]:
  names = set()
  for attr, obj in vars(nn).items():
    if attr.startswith('_') or not inspect.isclass(obj) or obj is nn.Module:
      continue
    if issubclass(obj, nn.Module) and not inspect.isabstract(obj):
      names.add(attr)
  return names


def test_every_public_layer_has_a_descriptor():
  missing = sorted(_public_module_classes() - set(ALL))
  assert not missing, (f'public Module subclasses without a conformance descriptor: {missing}; '
                       'add them to layer_descriptors.py (or layer_descriptors_rnn_attn.py)')


def test_descriptor_names_are_public_layers():
  for name in DESCRIPTORS:
    assert issubclass(getattr(nn, name), nn.Module), name


def _load_reference_fields() -> dict:
  path = pathlib.Path(__file__).with_name('layer_descriptors_fields.py')
  spec = importlib.util.spec_from_file_location('layer_descriptors_fields', path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod.REFERENCE_FIELDS


REFERENCE_FIELDS = _load_reference_fields()


def _simple_default(field):
  import dataclasses

  value = field.default
  if value is dataclasses.MISSING:
    return 'REQUIRED' if field.default_factory is dataclasses.MISSING else '...'
  if isinstance(value, (int, float, str, bool, type(None))):
    return value
  if isinstance(value, tuple) and all(isinstance(x, (int, str)) for x in value):
    return value
  try:
    return 'dtype:' + str(np.dtype(value))
  except TypeError:
    return '...'


@pytest.mark.parametrize('name', sorted(REFERENCE_FIELDS))
def test_fields_and_defaults_match_the_reference(name):
  import dataclasses

  cls = nn.recurrent.DenseParams if name == 'DenseParams' else getattr(nn, name)
  fields = [f for f in dataclasses.fields(cls) if f.name not in ('parent', 'name')]
  assert [f.name for f in fields] == [n for n, _ in REFERENCE_FIELDS[name]]
  assert [f.name for f in dataclasses.fields(cls)][-2:] == ['parent', 'name']
  assert [(f.name, _simple_default(f)) for f in fields] == list(REFERENCE_FIELDS[name])
