"""Data + model parallel training across 2 JAX processes equals the 1-process, 8-device run.

Two processes on loopback (``jax.distributed`` with gloo collectives), 4 CPU devices each,
form one (data=2, model=4) mesh; the batch is split over ``data`` (across the processes) and
the logically partitioned weights over ``model`` (inside each process). Three Adam steps of a
scanned logical MLP are compared -- losses and every trained parameter, gathered -- with the
same script run as one process owning 8 devices.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import flaxen

_WORKER = r'''
import json, sys
pid, nprocs, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
import jax
if nprocs > 1:
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=nprocs, process_id=pid)
import functools
import jax.numpy as jnp
import numpy as np
import optax
from jax.experimental import mesh_utils, multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from flaxen import linen as nn
from flaxen.training import train_state

RULES = (("batch", "data"), ("hidden", "model"))

class Layer(nn.Module):
  @nn.compact
  def __call__(self, x, _):
    init = nn.initializers.xavier_normal()
    w1 = self.param("w1", nn.with_logical_partitioning(init, ("embed", "hidden")), (16, 32))
    w2 = self.param("w2", nn.with_logical_partitioning(init, ("hidden", "embed")), (32, 16))
    h = nn.with_logical_constraint(jax.nn.relu(x @ w1), ("batch", "hidden"))
    return nn.with_logical_constraint(h @ w2, ("batch", "embed")), None

class Model(nn.Module):
  @nn.compact
  def __call__(self, x):
    stack = nn.scan(Layer, length=3, variable_axes={"params": 0}, split_rngs={"params": True},
                    metadata_params={nn.PARTITION_NAME: "layers"})
    return stack()(x, None)[0]

mesh = Mesh(mesh_utils.create_device_mesh((2, 4)), ("data", "model"))
model, tx = Model(), optax.adam(1e-2)
x_host = np.linspace(-1.0, 1.0, 8 * 16, dtype=np.float32).reshape(8, 16)
y_host = np.cos(3.0 * x_host)
data_sharding = NamedSharding(mesh, P("data", None))
x = jax.make_array_from_callback(x_host.shape, data_sharding, lambda idx: x_host[idx])
y = jax.make_array_from_callback(y_host.shape, data_sharding, lambda idx: y_host[idx])

def init_fn(key, x):
  params = model.init(key, x)["params"]
  return train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)

abstract = jax.eval_shape(init_fn, jax.random.key(0), x)
state_sharding = nn.logical_to_mesh_sharding(nn.get_partition_spec(abstract), mesh, RULES)

@functools.partial(jax.jit, out_shardings=(state_sharding, None))
def step(state, x, y):
  def loss_fn(params):
    return jnp.mean((model.apply({"params": params}, x) - y) ** 2)
  loss, grads = jax.value_and_grad(loss_fn)(state.params)
  return state.apply_gradients(grads=grads), loss

with jax.set_mesh(mesh), nn.logical_axis_rules(RULES):
  state = jax.jit(init_fn, out_shardings=state_sharding)(jax.random.key(0), x)
  constraints = str(jax.make_jaxpr(step)(state, x, y)).count("sharding_constraint[")
  losses = []
  for _ in range(3):
    state, loss = step(state, x, y)
    losses.append(float(loss))

kernel = state.params["ScanLayer_0"]["w1"].value
params = jax.tree_util.tree_map(
  lambda a: np.asarray(multihost_utils.process_allgather(a, tiled=True)).tolist(),
  nn.meta.unbox(state.params))
with open(out, "w") as f:  # a file, not a pipe: a full pipe would stall the shutdown barrier
  json.dump({
    "processes": jax.process_count(), "devices": jax.device_count(),
    "local_devices": jax.local_device_count(), "losses": losses, "params": params,
    "constraints": constraints,
    "kernel_spec": str(kernel.sharding.spec),
    "kernel_local_shards": len(kernel.addressable_shards)}, f)
if nprocs > 1:
  jax.distributed.shutdown()
'''


def _run(script, workdir, nprocs: int, devices_each: int, port: int, wait_workers) -> list[dict]:
  # the workers import the flaxen this test imports (not another install)
  root = str(pathlib.Path(flaxen.__file__).resolve().parents[1])
  path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": path,
         "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices_each}"}
  port = str(port)
  logs = [workdir / f"log_{nprocs}_{i}.txt" for i in range(nprocs)]
  results = [workdir / f"result_{nprocs}_{i}.json" for i in range(nprocs)]
  procs = []
  for i in range(nprocs):
    with open(logs[i], "w") as log:
      procs.append(subprocess.Popen(
        [sys.executable, str(script), str(i), str(nprocs), port, str(results[i])], env=env,
        stdout=log, stderr=subprocess.STDOUT))
  try:
    wait_workers(procs, 300)
  finally:  # a failed wait has killed them; show what they printed
    for p, log in zip(procs, logs):
      if p.returncode not in (0, None):
        print(f"--- {log.name} (exit {p.returncode}):\n{log.read_text()[-3000:]}")
  for p, log in zip(procs, logs):
    assert p.returncode == 0, log.read_text()[-3000:]
  return [json.loads(r.read_text()) for r in results]


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path, free_port, wait_workers):
  script = tmp_path / "worker.py"
  script.write_text(_WORKER)
  (single,) = _run(script, tmp_path, nprocs=1, devices_each=8, port=free_port,
                   wait_workers=wait_workers)
  pair = _run(script, tmp_path, nprocs=2, devices_each=4, port=free_port,
              wait_workers=wait_workers)
  assert single["processes"] == 1 and single["devices"] == 8
  # the logical constraints are in the step: 2 boxes + 2 activations, forward and backward
  assert single["constraints"] == 8
  for r in pair:
    assert (r["processes"], r["devices"], r["local_devices"]) == (2, 8, 4)
    # (layers, embed, hidden) -> hidden on 'model': 4 of the 8 shards live in each process
    assert r["kernel_spec"] == "P(None, None, 'model')" and r["kernel_local_shards"] == 4
    assert r["constraints"] == single["constraints"]
    np.testing.assert_allclose(r["losses"], single["losses"], rtol=1e-5, atol=1e-6)
    for name in ("w1", "w2"):
      np.testing.assert_allclose(r["params"]["ScanLayer_0"][name],
                                 single["params"]["ScanLayer_0"][name], rtol=1e-5, atol=1e-6)
  assert single["losses"][2] < single["losses"][0]  # it trains
  assert pair[0]["params"] == pair[1]["params"]  # both processes see the same global state
