"""lift.named_call names the sub-computation (visible in the lowered module)."""

import jax
import jax.numpy as jnp

from flaxen.core import apply, init, lift


def test_named_call_shows_in_lowered_module():
  f = lift.named_call(lambda s, x: x * s.param('p', jax.nn.initializers.ones, ()), 'my_block')
  _, v = init(f)(jax.random.PRNGKey(0), jnp.ones(2))
  hlo = jax.jit(lambda v: apply(f)(v, jnp.ones(2))).lower(v).as_text(debug_info=True)
  assert 'my_block' in hlo
