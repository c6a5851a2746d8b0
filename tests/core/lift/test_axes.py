"""In/Out markers, broadcast, and axis checks naming the collection."""

import jax.numpy as jnp
import pytest

from flaxen import core
from flaxen._src.core.lift.axes import check_axis, split_in_out_axes
from flaxen.core import lift


def test_in_out_split():
  ins, outs = split_in_out_axes({'params': 0, 'a': lift.In(1), 'b': lift.Out(2)})
  assert ins == {'params': 0, 'a': 1}
  assert outs == {'params': 0, 'b': 2}


def test_broadcast_is_shared_marker():
  assert lift.broadcast is core.broadcast


def test_check_axis_names_collection_and_path():
  group = ({'params': {'Dense_0': {'kernel': jnp.ones((2, 3))}}},)
  with pytest.raises(ValueError, match=r'"Dense_0/kernel" of collection "params" in "/stack"'):
    check_axis('scan', group, 0, 4, ('/stack',))
  with pytest.raises(ValueError, match='no axis 3'):
    check_axis('vmap', group, 3, None, ('/m',))
  check_axis('vmap', group, 0, 2, ('/m',))
