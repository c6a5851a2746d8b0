"""``nn.tabulate`` / ``Module.tabulate`` render the tables the seeds print."""

import enum
import hashlib

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


# --------------------------------------------------------------------------- FLOPs columns

# The reference's text for its own docstring example (flax 0.12.8, jax 0.10.2, CPU).
FOO_FLOPS_TABLE = """
                                  Foo Summary
┏━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━┓
┃ path    ┃ module ┃ inputs     ┃ outputs     ┃ flops ┃ vjp_flops ┃ params     ┃
┡━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━┩
│         │ Foo    │ float32[1… │ float32[16… │ 1504  │ 4460      │            │
├─────────┼────────┼────────────┼─────────────┼───────┼───────────┼────────────┤
│ Dense_0 │ Dense  │ float32[1… │ float32[16… │ 1216  │ 3620      │ bias:      │
│         │        │            │             │       │           │ float32[4] │
│         │        │            │             │       │           │ kernel:    │
│         │        │            │             │       │           │ float32[9… │
│         │        │            │             │       │           │            │
│         │        │            │             │       │           │ 40 (160 B) │
├─────────┼────────┼────────────┼─────────────┼───────┼───────────┼────────────┤
│ Dense_1 │ Dense  │ float32[1… │ float32[16… │ 288   │ 840       │ bias:      │
│         │        │            │             │       │           │ float32[2] │
│         │        │            │             │       │           │ kernel:    │
│         │        │            │             │       │           │ float32[4… │
│         │        │            │             │       │           │            │
│         │        │            │             │       │           │ 10 (40 B)  │
├─────────┼────────┼────────────┼─────────────┼───────┼───────────┼────────────┤
│         │        │            │             │       │     Total │ 50 (200 B) │
└─────────┴────────┴────────────┴─────────────┴───────┴───────────┴────────────┘

                          Total Parameters: 50 (200 B)
"""


def test_flops_columns_equal_the_reference():
  out = nn.tabulate(Foo(), jax.random.key(0), compute_flops=True, compute_vjp_flops=True,
                    console_kwargs=PLAIN)(jnp.ones((16, 9)))
  assert lines(out) == lines(FOO_FLOPS_TABLE)


def test_module_tabulate_accepts_the_flops_options():
  out = Foo().tabulate(jax.random.key(0), jnp.ones((16, 9)), compute_flops=True,
                       console_kwargs={**PLAIN, "width": 200})
  header = next(line for line in lines(out) if line.startswith("┃"))
  assert [c.strip() for c in header.split("┃")[1:-1]] == [
    "path", "module", "inputs", "outputs", "flops", "params"]
  assert "1504" in out and "1216" in out and "vjp_flops" not in out


# --------------------------------------------------------------------------- as data


class Block(nn.Module):
  @nn.compact
  def __call__(self, x, train: bool = True):
    x = nn.BatchNorm(use_running_average=not train)(nn.Dense(3)(x))
    return nn.Dropout(0.5, deterministic=not train)(x)


def test_summary_as_rows():
  rngs = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
  table = nn.summary.module_summary(Block(), rngs, jnp.ones((4, 5)), compute_flops=True)
  assert isinstance(table, nn.summary.Table) and isinstance(table, list)
  assert table.collections == ("batch_stats", "params")
  assert type(table.module) is Block
  assert [(r.path, type(r.module_copy).__name__, r.method) for r in table] == [
    ((), "Block", "__call__"), (("Dense_0",), "Dense", "__call__"),
    (("BatchNorm_0",), "BatchNorm", "__call__"), (("Dropout_0",), "Dropout", "__call__")]
  root, dense, bn, _ = table
  assert all(isinstance(r, nn.summary.Row) for r in table)
  assert root.module_copy.parent is None and root.module_copy.scope is None
  assert dense.size_and_bytes(table.collections) == {"batch_stats": (0, 0), "params": (18, 72)}
  assert bn.size_and_bytes(table.collections) == {"batch_stats": (6, 24), "params": (6, 24)}
  assert sorted(bn.module_variables["batch_stats"]) == ["mean", "var"]
  assert dense.flops > 0 and dense.vjp_flops == -1  # not measured
  # inputs and outputs are kept as shapes and dtypes (nothing traced escapes)
  assert (dense.inputs.shape, str(dense.inputs.dtype)) == ((4, 5), "float32")
  assert dense.outputs.shape == (4, 3)


def test_depth_counts_the_hidden_subtree_in_the_shown_row():
  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return Block()(x, train=False)

  table = nn.summary.module_summary(Outer(), jax.random.key(0), jnp.ones((4, 5)), depth=1)
  assert [r.path for r in table] == [(), ("Block_0",)]
  block = table[1]
  assert block.module_variables == {"batch_stats": {}, "params": {}}  # only submodules below
  assert block.size_and_bytes(table.collections) == {"batch_stats": (6, 24), "params": (24, 96)}


def test_reference_private_entry_point():
  fn = nn.summary._get_module_table(Foo(), depth=None, show_repeated=False, compute_flops=False,
                                    compute_vjp_flops=True)
  table = fn(jax.random.key(0), jnp.ones((16, 9)))
  assert [r.vjp_flops for r in table] == [4460, 3620, 840]
  assert [r.flops for r in table] == [-1, -1, -1]


# --------------------------------------------------------------------------- byte equality


class Mode(enum.Enum):
  TRAIN = 1
  EVAL = "eval"


class WithEnum(nn.Module):
  @nn.compact
  def __call__(self, x, mode: Mode = Mode.TRAIN, scale=2.0, tag="abc", flag=True):
    y = nn.Dense(3)(x)
    return y if mode == Mode.TRAIN else -y


class CNNStats(nn.Module):
  @nn.compact
  def __call__(self, x, train: bool = True):
    x = nn.Conv(8, (3, 3))(x)
    x = nn.relu(nn.BatchNorm(use_running_average=not train)(x))
    x = nn.avg_pool(x, (2, 2), (2, 2)).reshape((x.shape[0], -1))
    x = nn.Dropout(0.5, deterministic=not train)(x)
    return nn.Dense(10)(x)


class ScanMLP(nn.Module):
  @nn.compact
  def __call__(self, x):
    class Layer(nn.Module):
      @nn.compact
      def __call__(self, c, _):
        return nn.relu(nn.Dense(9)(c)), None

    stack = nn.scan(Layer, variable_axes={"params": 0}, split_rngs={"params": True}, length=3)
    return stack()(x, None)[0]


class Partitioned(nn.Module):
  @nn.compact
  def __call__(self, x):
    init = nn.with_partitioning(nn.initializers.lecun_normal(), (None, "model"))
    return nn.Dense(4, kernel_init=init, use_bias=False)(x)


class Helper(nn.Module):
  def setup(self):
    self.d = nn.Dense(3)

  def helper(self, x):
    return self.d(x) * 2

  def __call__(self, x):
    return self.helper(x) + self.d(x)


class Nested(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(2)(Helper()(x)) + nn.Dense(2)(Helper()(x))


X = jnp.ones((16, 9))
IMG = jnp.ones((2, 8, 8, 3))
SEQ = jnp.ones((2, 5, 3))
WIDE = {"width": 200}
RNGS = {"params": jax.random.key(0), "dropout": jax.random.key(1)}


def _tab(module, *args, rngs=None, **kwargs):
  def run():
    fn = nn.tabulate(module, jax.random.key(0) if rngs is None else rngs, **kwargs)
    return fn(*args) if not isinstance(args[-1], dict) else fn(*args[:-1], **args[-1])

  return run


# name -> zero-argument function returning the table text (styled terminal output)
CASES = {
  "foo_flops_wide": _tab(Foo(), X, compute_flops=True, compute_vjp_flops=True,
                         console_kwargs=WIDE),
  "cnn_stats_flops": _tab(CNNStats(), IMG, rngs=RNGS, compute_flops=True, compute_vjp_flops=True,
                          console_kwargs=WIDE),
  "cnn_stats_eval_kw": _tab(CNNStats(), IMG, {"train": False}, rngs=RNGS, compute_flops=True,
                            console_kwargs=WIDE),
  "enum_inputs": _tab(WithEnum(), X, {"mode": Mode.EVAL, "scale": 3, "tag": "q", "flag": None},
                      compute_flops=True, compute_vjp_flops=True, console_kwargs=WIDE),
  "enum_positional": _tab(WithEnum(), X, Mode.EVAL, console_kwargs=WIDE),
  "scan_flops": _tab(ScanMLP(), X, compute_flops=True, compute_vjp_flops=True,
                     console_kwargs=WIDE),
  "partitioned": _tab(Partitioned(), X, compute_flops=True, console_kwargs=WIDE),
  "helper_repeated": _tab(Helper(), X, show_repeated=True, compute_flops=True,
                          console_kwargs=WIDE),
  "nested_depth_1": _tab(Nested(), X, depth=1, compute_flops=True, console_kwargs=WIDE),
  "mha_flops": _tab(nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=4), SEQ, SEQ,
                    compute_flops=True, compute_vjp_flops=True, console_kwargs=WIDE),
  "lstm": _tab(nn.RNN(nn.LSTMCell(4)), SEQ, compute_flops=True, console_kwargs=WIDE),
  "raw_key_narrow": _tab(Foo(), X, rngs=jax.random.PRNGKey(0), compute_flops=True),
}

EXPECTED = {
  'foo_flops_wide': '1b353fda690bec74',
  'cnn_stats_flops': 'e5d8e8ae8c25ebd7',
  'cnn_stats_eval_kw': 'ac7b2685ffe2258a',
  'enum_inputs': '5030677ec79c92ec',
  'enum_positional': '487893194bcf18f2',
  'scan_flops': 'e5c632603e28ebe5',
  'partitioned': '28e3f2dc53d4381b',
  'helper_repeated': '7b104ccb3eacd3c3',
  'nested_depth_1': '393059c57dc14915',
  'mha_flops': 'd5fb81bf2242e4c3',
  'lstm': '8a26bf932e63006b',
  'raw_key_narrow': 'be6778af2bb47e3f',
}


@pytest.mark.parametrize("name", list(CASES))
def test_text_equals_the_reference(name):
  text = CASES[name]()
  assert hashlib.sha1(text.encode()).hexdigest()[:16] == EXPECTED[name], text


def test_every_case_has_expected_text():
  assert set(EXPECTED) == set(CASES)
