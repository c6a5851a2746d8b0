"""nn.sharding_plan: a plan checked from eval_shape only, on a Transformer with bad rules."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AbstractMesh, Mesh
from jax.sharding import PartitionSpec as P

from flaxen import linen as nn
from flaxen.linen import partitioning as nnp

VOCAB, EMBED, MLP, HEAD_DIM, LAYERS = 1000, 64, 256, 16, 3


def logical(init, names):
  return nn.with_logical_partitioning(init, names)


class Block(nn.Module):
  heads: int

  @nn.compact
  def __call__(self, x, _):
    lecun = nn.initializers.lecun_normal()
    h = nn.LayerNorm(use_bias=False, scale_init=logical(nn.initializers.ones, ('embed',)))(x)
    qkv = [nn.DenseGeneral((self.heads, HEAD_DIM), use_bias=False, name=n,
                           kernel_init=logical(lecun, ('embed', 'heads', 'kv')))(h)
           for n in ('query', 'key', 'value')]
    attn = nn.dot_product_attention(*qkv)
    x = x + nn.DenseGeneral(EMBED, axis=(-2, -1), use_bias=False, name='out',
                            kernel_init=logical(lecun, ('heads', 'kv', 'embed')))(attn)
    h = nn.Dense(MLP, kernel_init=logical(lecun, ('embed', 'mlp')),
                 bias_init=logical(nn.initializers.zeros, ('mlp',)))(x)
    return x + nn.Dense(EMBED, use_bias=False, kernel_init=logical(lecun, ('mlp', 'embed')))(
      nn.gelu(h)), None


class Transformer(nn.Module):
  heads: int = 6
  with_bad_param: bool = True

  @nn.compact
  def __call__(self, tokens):
    x = nn.Embed(VOCAB, EMBED, embedding_init=logical(nn.initializers.normal(), ('vocab', 'embed')))(
      tokens)
    x, _ = nn.scan(Block, variable_axes={'params': 0}, split_rngs={'params': True}, length=LAYERS,
                   metadata_params={nn.PARTITION_NAME: 'layers'})(self.heads)(x, None)
    if self.with_bad_param:  # two names for a vector
      x = x + self.param('bad_bias', logical(nn.initializers.zeros, ('embed', 'mlp')),
                         (EMBED,))[None, None]
    unembed = nnp.param_with_axes('unembed', nn.initializers.lecun_normal(), (EMBED, VOCAB),
                                  axes=('embed', 'vocab'))  # the legacy API
    return x @ unembed


TOKENS = jax.ShapeDtypeStruct((8, 32), jnp.int32)
MESH = {'data': 2, 'model': 4}
BAD_RULES = [
  ('batch', 'data'),
  ('vocab', 'model'),
  ('heads', 'model'),  # 6 heads on 4 devices
  ('mlp', 'tensor'),  # the mesh has no 'tensor' axis
  ('embed', 'model'),  # 'model' is always taken by vocab/heads first
  ('layers', None),  # explicitly unsharded: not an issue
]  # and no rule at all for 'kv'


def by_path(plan):
  return {f'{e.group}/{e.path}': e for e in plan.entries}


def kinds(entry):
  return sorted(i.kind for i in entry.issues)


def test_bad_rules_are_flagged_one_by_one():
  plan = nn.sharding_plan(Transformer(), TOKENS, mesh=MESH, rules=BAD_RULES)
  rows = by_path(plan)
  blk = 'params/ScanBlock_0'
  q = rows[f'{blk}/query/kernel']
  assert q.logical == ('layers', 'embed', 'heads', 'kv') and q.spec == P(None, None, 'model', None)
  assert kinds(q) == ['axis_taken', 'no_rule', 'not_divisible']
  out = rows[f'{blk}/out/kernel']
  assert out.spec == P(None, 'model', None, None) and kinds(out) == [
    'axis_taken', 'no_rule', 'not_divisible']
  mlp = rows[f'{blk}/Dense_0/kernel']
  assert mlp.spec == P(None, 'model', 'tensor') and kinds(mlp) == ['unknown_mesh_axis']
  assert "mesh has no axis 'tensor'" in mlp.issues[0].message
  emb = rows['params/Embed_0/embedding']
  assert emb.spec == P('model', None) and kinds(emb) == ['axis_taken']
  assert emb.device_bytes == (VOCAB // 4) * EMBED * 4 and emb.global_bytes == VOCAB * EMBED * 4
  bad = rows['params/bad_bias']
  assert 'rank_mismatch' in kinds(bad)
  assert rows['params/unembed'].logical == ('embed', 'vocab')  # found in params_axes
  assert rows['params/unembed'].spec == P(None, 'model')
  assert not any(e.group == 'params_axes' for e in plan.entries)
  no_rule = {i.message.split("'")[1] for _, i in plan.issues if i.kind == 'no_rule'}
  assert no_rule == {'kv'}
  assert {i.kind for _, i in plan.issues} == {
    'no_rule', 'axis_taken', 'not_divisible', 'unknown_mesh_axis', 'rank_mismatch'}


def test_a_good_plan_has_no_issues_and_matches_get_partition_spec():
  rules = [('batch', 'data'), ('vocab', 'model'), ('heads', 'model'), ('mlp', 'model'),
           ('embed', None), ('kv', None), ('layers', None)]
  model = Transformer(heads=8, with_bad_param=False)
  plan = nn.sharding_plan(model, TOKENS, mesh=MESH, rules=rules)
  assert plan.issues == []
  abstract = jax.eval_shape(model.init, jax.random.key(0), TOKENS)
  expected = nn.logical_to_mesh(nn.get_partition_spec(abstract['params']), rules)
  flat = {'/'.join(str(k.key) for k in path): spec for path, spec in
          jax.tree_util.tree_flatten_with_path(expected, is_leaf=lambda s: isinstance(s, P))[0]}
  got = {e.path: e.spec for e in plan.entries if e.group == 'params'}
  assert {k: v for k, v in got.items() if k != 'unembed'} == {
    k: v for k, v in flat.items() if k != 'unembed'}


def test_optimizer_state_and_totals():
  rules = [('vocab', 'model'), ('heads', 'model'), ('mlp', 'model'), ('embed', None),
           ('kv', None), ('layers', None)]
  model = Transformer(heads=8, with_bad_param=False)
  plan = nn.sharding_plan(model, TOKENS, mesh=MESH, rules=rules, tx=optax.adam(1e-3))
  rows = by_path(plan)
  assert rows['opt_state/0/count'].spec == P() and rows['opt_state/0/count'].logical is None
  mu = rows['opt_state/0/mu/ScanBlock_0/Dense_0/kernel']
  assert mu.logical == ('layers', 'embed', 'mlp') and mu.spec == P(None, None, 'model')
  assert rows['opt_state/0/nu/unembed'].logical == ('embed', 'vocab')  # legacy, by suffix
  totals = plan.totals()
  n_params = sum(np.prod(e.shape) for e in plan.entries if e.group == 'params')
  assert totals['params'][0] == 4 * n_params
  assert totals['opt_state'][0] == 2 * totals['params'][0] + 4  # mu, nu and the count
  assert totals['total'] == (totals['params'][0] + totals['opt_state'][0],
                             totals['params'][1] + totals['opt_state'][1])
  assert totals['params'][1] < totals['params'][0] / 3  # most bytes are sharded 4 ways


def test_meshes_inputs_and_kwargs():
  devices = np.array(jax.devices()[:8]).reshape(2, 4)
  model = Transformer(heads=8, with_bad_param=False)
  for mesh in (Mesh(devices, ('data', 'model')), AbstractMesh((2, 4), ('data', 'model'))):
    plan = nn.sharding_plan(model, jnp.zeros((8, 32), jnp.int32), mesh=mesh,
                            rules=[('vocab', 'model')])
    assert plan.mesh_shape == MESH

  class Flagged(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool, *, scale):
      assert isinstance(train, bool)  # Python values stay Python values
      return nn.Dense(4, kernel_init=logical(nn.initializers.ones, ('embed', 'mlp')))(x) * scale

  with nn.logical_axis_rules([('mlp', 'model'), ('embed', None)]):  # the current rules
    plan = nn.sharding_plan(Flagged(), jax.ShapeDtypeStruct((2, 3), jnp.float32), True,
                            mesh=MESH, scale=jnp.ones((1, 4)))
  assert by_path(plan)['params/Dense_0/kernel'].spec == P(None, 'model')
  assert plan.issues == []


def test_nothing_is_allocated():
  # a 512 GiB kernel (and 1 TiB of Adam state): only shapes are ever computed
  big = nn.Dense(2**20, use_bias=False,
                 kernel_init=logical(nn.initializers.lecun_normal(), ('embed', 'mlp')))
  plan = nn.sharding_plan(big, jax.ShapeDtypeStruct((1, 2**17), jnp.float32), mesh=MESH,
                          rules=[('mlp', 'model'), ('embed', 'data')], tx=optax.adam(1e-3))
  assert plan.totals()['params'] == (2**39, 2**36)
  assert plan.totals()['total'][1] == 3 * 2**36 + 4
  assert 'GiB' in str(plan)
