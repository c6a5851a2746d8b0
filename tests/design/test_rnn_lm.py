"""Design test: a small character-level RNN language model trains (loss goes down).

Embed -> RNN(LSTMCell) -> Dense(vocab), next-token cross-entropy on a short,
periodic token stream, a jitted optax.adam step. Exercises nn.RNN under
jax.grad/jit and the parameter tree a user would see.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flaxen import linen as nn

VOCAB = 7


class RnnLM(nn.Module):
  vocab: int = VOCAB
  embed_dim: int = 8
  hidden: int = 16

  @nn.compact
  def __call__(self, tokens):
    x = nn.Embed(self.vocab, self.embed_dim, name='embed')(tokens)
    x = nn.RNN(nn.LSTMCell(self.hidden), name='rnn')(x)
    return nn.Dense(self.vocab, name='head')(x)


def _batch(rng, batch=8, length=12):
  starts = rng.integers(0, VOCAB, size=(batch, 1))
  return jnp.asarray((starts + np.arange(length + 1)) % VOCAB, jnp.int32)


def test_rnn_lm_trains():
  model = RnnLM()
  rng = np.random.default_rng(0)
  data = _batch(rng)
  params = model.init(jax.random.PRNGKey(0), data[:, :-1])['params']
  # The cell is created inside RnnLM's compact method, so RnnLM owns it (auto-named
  # LSTMCell_0); RNN only scans it and has no variables of its own.
  assert list(params) == ['embed', 'LSTMCell_0', 'head']
  assert params['LSTMCell_0']['ii']['kernel'].shape == (8, 16)
  tx = optax.adam(3e-2)
  opt_state = tx.init(params)

  def loss_fn(p, tokens):
    logits = model.apply({'params': p}, tokens[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

  @jax.jit
  def step(p, s, tokens):
    loss, grads = jax.value_and_grad(loss_fn)(p, tokens)
    updates, s = tx.update(grads, s, p)
    return optax.apply_updates(p, updates), s, loss

  losses = []
  for _ in range(30):
    params, opt_state, loss = step(params, opt_state, _batch(rng))
    losses.append(float(loss))
  assert np.isfinite(losses).all()
  assert losses[-1] < 0.5 * losses[0], losses
