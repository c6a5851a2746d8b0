"""Names client code imports from flaxen.core, flaxen.core.scope/lift/axes_scan/partial_eval."""

import jax
import jax.numpy as jnp
import numpy as np

import flaxen.core as core
from flaxen.core import axes_scan, lift, partial_eval, scope


def test_core_reexports_the_lifted_transforms_and_trace_helpers():
  for name in ('custom_vjp', 'jit', 'jvp', 'remat', 'remat_scan', 'scan', 'vjp', 'vmap',
               'while_loop'):
    assert getattr(core, name) is getattr(lift, name)
  assert core.map_axis_meta is core.meta.map_axis_meta
  core.check_trace_level(core.current_trace())
  assert core.Array is scope.Array
  assert core.frozen_dict.FrozenDict is core.FrozenDict


def test_axes_scan_module():
  def body(bcast, carry, x):  # the broadcast value is computed once, then fed back in
    return bcast, carry + x * bcast, carry

  scan_fn = axes_scan.scan(body, in_axes=(0,), out_axes=0, length=3)
  bcast, carry, ys = scan_fn(2.0, 0.0, jnp.arange(3.0))
  assert float(bcast) == 2.0 and float(carry) == 6.0
  np.testing.assert_allclose(ys, [0.0, 0.0, 2.0])
  assert repr(axes_scan.broadcast) == 'broadcast'


def test_partial_eval_lazy_init():
  f = partial_eval.lazy_init(lambda x: {'w': jnp.zeros(x.shape[-1])})
  out = f(jax.ShapeDtypeStruct((2, 5), jnp.float32))
  assert out['w'].shape == (5,)


def test_lift_reexports_filters_and_types():
  assert lift.in_filter is scope.in_filter and lift.union_filters is scope.union_filters
  assert lift.CollectionFilter is scope.CollectionFilter
  assert lift.Scope is scope.Scope and lift.LazyRng is scope.LazyRng
  assert lift.freeze({'a': 1})['a'] == 1
  assert lift.InOutAxis is not None and lift.InOutScanAxis is not None
