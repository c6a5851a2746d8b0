"""``nn.tabulate`` / ``Module.tabulate`` render the tables the seeds print."""

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn

PLAIN = {"force_terminal": False}

# seeds/002 L14653-L14672 (Module.tabulate docstring example)
FOO_TABLE = """
                                Foo Summary
┏━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓
┃ path    ┃ module ┃ inputs        ┃ outputs       ┃ params               ┃
┡━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩
│         │ Foo    │ float32[16,9] │ float32[16,2] │                      │
├─────────┼────────┼───────────────┼───────────────┼──────────────────────┤
│ Dense_0 │ Dense  │ float32[16,9] │ float32[16,4] │ bias: float32[4]     │
│         │        │               │               │ kernel: float32[9,4] │
│         │        │               │               │                      │
│         │        │               │               │ 40 (160 B)           │
├─────────┼────────┼───────────────┼───────────────┼──────────────────────┤
│ Dense_1 │ Dense  │ float32[16,4] │ float32[16,2] │ bias: float32[2]     │
│         │        │               │               │ kernel: float32[4,2] │
│         │        │               │               │                      │
│         │        │               │               │ 10 (40 B)            │
├─────────┼────────┼───────────────┼───────────────┼──────────────────────┤
│         │        │               │         Total │ 50 (200 B)           │
└─────────┴────────┴───────────────┴───────────────┴──────────────────────┘

                      Total Parameters: 50 (200 B)
"""

# seeds/002 L279-L313 (quickstart)
CNN_TABLE = """
                                  CNN Summary
┏━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ path    ┃ module ┃ inputs            ┃ outputs           ┃ params            ┃
┡━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│         │ CNN    │ float32[1,28,28,… │ float32[1,10]     │                   │
├─────────┼────────┼───────────────────┼───────────────────┼───────────────────┤
│ Conv_0  │ Conv   │ float32[1,28,28,… │ float32[1,28,28,… │ bias: float32[32] │
│         │        │                   │                   │ kernel:           │
│         │        │                   │                   │ float32[3,3,1,32] │
│         │        │                   │                   │                   │
│         │        │                   │                   │ 320 (1.3 KB)      │
├─────────┼────────┼───────────────────┼───────────────────┼───────────────────┤
│ Conv_1  │ Conv   │ float32[1,14,14,… │ float32[1,14,14,… │ bias: float32[64] │
│         │        │                   │                   │ kernel:           │
│         │        │                   │                   │ float32[3,3,32,6… │
│         │        │                   │                   │                   │
│         │        │                   │                   │ 18,496 (74.0 KB)  │
├─────────┼────────┼───────────────────┼───────────────────┼───────────────────┤
│ Dense_0 │ Dense  │ float32[1,3136]   │ float32[1,256]    │ bias:             │
│         │        │                   │                   │ float32[256]      │
│         │        │                   │                   │ kernel:           │
│         │        │                   │                   │ float32[3136,256] │
│         │        │                   │                   │                   │
│         │        │                   │                   │ 803,072 (3.2 MB)  │
├─────────┼────────┼───────────────────┼───────────────────┼───────────────────┤
│ Dense_1 │ Dense  │ float32[1,256]    │ float32[1,10]     │ bias: float32[10] │
│         │        │                   │                   │ kernel:           │
│         │        │                   │                   │ float32[256,10]   │
│         │        │                   │                   │                   │
│         │        │                   │                   │ 2,570 (10.3 KB)   │
├─────────┼────────┼───────────────────┼───────────────────┼───────────────────┤
│         │        │                   │             Total │ 824,458 (3.3 MB)  │
└─────────┴────────┴───────────────────┴───────────────────┴───────────────────┘

                       Total Parameters: 824,458 (3.3 MB)
"""


def lines(text):
  # titles and captions are centred; rich versions differ by one space on odd widths
  out = []
  for line in text.strip("\n").splitlines():
    line = line.rstrip()
    out.append(line if line[:1] in "┏┃┡│├└" else line.strip())
  return out


class Foo(nn.Module):
  @nn.compact
  def __call__(self, x):
    h = nn.Dense(4)(x)
    return nn.Dense(2)(h)


class CNN(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Conv(features=32, kernel_size=(3, 3))(x))
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = nn.relu(nn.Conv(features=64, kernel_size=(3, 3))(x))
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))
    x = nn.relu(nn.Dense(features=256)(x))
    return nn.Dense(features=10)(x)


def test_seed_foo_table():
  out = Foo().tabulate(jax.random.PRNGKey(0), jnp.ones((16, 9)), console_kwargs=PLAIN)
  assert lines(out) == lines(FOO_TABLE)


def test_seed_cnn_table_and_function_form():
  out = nn.tabulate(CNN(), jax.random.PRNGKey(0), console_kwargs=PLAIN)(jnp.ones((1, 28, 28, 1)))
  assert lines(out) == lines(CNN_TABLE)


def test_default_console_is_styled_terminal_output():
  out = Foo().tabulate(jax.random.PRNGKey(0), jnp.ones((16, 9)))
  assert "\x1b[" in out and "Foo Summary" in out


class Sub(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(9)(x)

  def other(self, x):
    return x


class Top(nn.Module):
  @nn.compact
  def __call__(self, x, train=True):
    s = Sub()
    x = s(x)
    x = s(x)
    x = s.other(x)
    x = nn.BatchNorm(use_running_average=not train)(x)
    return {"a": x, "b": (x, 1)}


def rows(out):
  return [line for line in lines(out) if line.startswith("│")]


def test_repeated_calls_depth_and_collections():
  x = jnp.ones((16, 9))
  out = Top().tabulate(jax.random.PRNGKey(0), x, console_kwargs={**PLAIN, "width": 200})
  text = "\n".join(lines(out))
  header = next(line for line in lines(out) if line.startswith("┃"))
  assert header.split("┃")[5:7] == [" batch_stats ", " params               "] or (
    "batch_stats" in header and header.index("batch_stats") < header.index("params"))
  first_cells = [r.split("│")[1].strip() for r in rows(out)]
  # root, Sub_0 once (repeats hidden), its Dense, BatchNorm, then the Total row
  assert first_cells[0] == "" and "Sub_0" in first_cells and "Sub_0/Dense_0" in first_cells
  assert first_cells.count("Sub_0") == 1 and "(other)" not in text
  assert "a: float32[16,9]" in text and "- 1" in text
  assert "Total Parameters: 126 (504 B)" in text  # 90 + 18 params, 18 batch stats

  shallow = Top().tabulate(jax.random.PRNGKey(0), x, train=False, depth=1, show_repeated=True,
                           console_kwargs={**PLAIN, "width": 200})
  text = "\n".join(lines(shallow))
  cells = [r.split("│")[1].strip() for r in rows(shallow)]
  assert cells.count("Sub_0") == 3 and "Sub (other)" in text
  assert "Sub_0/Dense_0" not in text
  assert "90 (360 B)" in text  # hidden Dense counted in its first shown ancestor
  assert "- train: False" in text
  assert "Total Parameters: 126 (504 B)" in text


def test_method_and_partitioned_and_nested_inputs():
  class A(nn.Module):
    @nn.compact
    def __call__(self, x, y):
      k = self.param("k", nn.with_partitioning(nn.initializers.ones, ("a", None)), (9, 3))
      return x @ k, {"y": y}

    def enc(self, x, *, z=None):
      return x

  x = jnp.ones((16, 9))
  out = A().tabulate(jax.random.PRNGKey(0), x, {"p": x[0], "q": 3},
                     console_kwargs={**PLAIN, "width": 200})
  text = "\n".join(lines(out))
  assert "k: float32[9,3] P(a, None)" in text
  assert "- p: float32[9]" in text and "  q: 3" in text
  enc = A().tabulate(jax.random.PRNGKey(0), x, z=2, method="enc", console_kwargs=PLAIN)
  assert "A (enc)" in enc and "- z: 2" in enc and lines(enc)[-1] == "Total Parameters:"


def test_flops_request_is_refused():
  with pytest.raises(ValueError, match="FLOPs"):
    nn.tabulate(Foo(), jax.random.PRNGKey(0), compute_flops=True)
