"""The rich table of a ShardingPlan: title, one row per array, issues, totals."""

import jax
import jax.numpy as jnp
import optax
import pytest
import rich.table

from flaxen import linen as nn
from flaxen._src.linen.sharding_plan_table import human_bytes


def test_table_rows_issues_and_totals():
  model = nn.Dense(6, kernel_init=nn.with_logical_partitioning(
    nn.initializers.lecun_normal(), ('embed', 'mlp')))
  plan = nn.sharding_plan(model, jax.ShapeDtypeStruct((8, 4), jnp.float32),
                          mesh={'data': 2, 'model': 4}, rules=[('mlp', 'model')],
                          tx=optax.sgd(0.1, momentum=0.9))
  text = str(plan)
  assert 'Sharding plan on mesh (data=2, model=4): 4 arrays, 4 issue(s)' in text
  for row in ('params/kernel', 'params/bias', 'opt_state/0/trace/kernel'):
    assert row in text
  assert "P(None, 'model')" in text and "('embed', 'mlp')" in text
  assert 'not_divisible: dim 1 (size 6) not divisible' in text
  assert "no_rule: no rule for 'embed'" in text
  lines = text.splitlines()
  params_total = next(line for line in lines if 'params total' in line)
  assert '120 B' in params_total and '56 B' in params_total
  assert any('opt_state total' in line for line in lines)
  assert any('│ total' in line and '240 B' in line for line in lines)
  assert isinstance(plan.table(), rich.table.Table) and plan.__rich__() is not None


@pytest.mark.parametrize('n,expected', [(0, '0 B'), (1023, '1023 B'), (1536, '1.5 KiB'),
                                        (3 * 2**30, '3.0 GiB'), (2**50, '1024.0 TiB')])
def test_human_bytes(n, expected):
  assert human_bytes(n) == expected
