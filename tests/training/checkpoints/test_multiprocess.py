"""save_checkpoint_multiprocess: in one process, and in two real JAX processes on loopback.

Decision (issue 12): Orbax is the default format (``flax_use_orbax_checkpointing`` is on,
as in the reference), and it is the only format that can hold arrays spanning processes:
every process writes its own shards. With the flag off such arrays raise
``MPACheckpointingRequiredError`` whose message names the flag.
"""

import os

import numpy as np
import pytest

from flaxen import errors
from flaxen._src.training.checkpoints import multiprocess
from flaxen.training import checkpoints


def test_single_process_behaves_like_save_checkpoint(tmp_path, msgpack):
  for step in range(4):
    path = checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': np.arange(4) + step}, step,
                                                    keep=2, overwrite=True)
  assert path == str(tmp_path / 'checkpoint_3')
  assert checkpoints.available_steps(tmp_path) == [2, 3]
  assert (checkpoints.restore_checkpoint(tmp_path, None)['m'] == np.arange(4) + 3).all()
  with pytest.raises(errors.InvalidCheckpointError):
    checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': 0}, 1)


def test_fully_addressable_arrays_are_not_multiprocess():
  import jax
  import jax.numpy as jnp
  from jax.sharding import Mesh, NamedSharding, PartitionSpec

  mesh = Mesh(np.asarray(jax.devices()).reshape(4, 2), ('x', 'y'))
  arr = jax.device_put(jnp.arange(16).reshape(8, 2), NamedSharding(mesh, PartitionSpec('x', 'y')))
  assert not multiprocess.has_multiprocess_array({'model': arr})


def test_single_process_orbax(tmp_path, orbax):
  for step in range(3):
    checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': np.arange(4) + step}, step, keep=2)
  assert checkpoints.available_steps(tmp_path) == [1, 2]
  out = checkpoints.restore_checkpoint(tmp_path, {'m': np.zeros(4, int)})
  assert (out['m'] == np.arange(4) + 2).all()


def test_multiprocess_arrays_need_orbax_and_the_message_says_so(tmp_path, monkeypatch, msgpack):
  monkeypatch.setattr(multiprocess, 'has_multiprocess_array', lambda target: True)
  with pytest.raises(errors.MPACheckpointingRequiredError) as e:
    checkpoints.save_checkpoint_multiprocess(tmp_path, {'m': 1}, 3)
  assert e.value.step == 3 and e.value.path == str(tmp_path / 'checkpoint_3')
  assert 'flax_use_orbax_checkpointing' in str(e.value)
  assert 'flaxen has no GlobalAsyncCheckpointManager path' in str(e.value)
  assert checkpoints.available_steps(tmp_path) == []


# ---------------------------------------------------------------- two real processes on loopback

_WORKER = r'''
import json, os, sys
pid, port, ckpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=pid)
import numpy as np
from flaxen import errors
from flaxen import config
from flaxen.training import checkpoints
config.update("flax_use_orbax_checkpointing", False)  # the legacy format: process 0 writes
state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 7}
paths = [checkpoints.save_checkpoint_multiprocess(ckpt, state, step=s, keep=1) for s in (1, 2)]
restored = checkpoints.restore_checkpoint(ckpt, target=None)
mesh = jax.make_mesh((2,), ("p",), devices=jax.devices())
sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("p"))
garr = jax.make_array_from_process_local_data(sharding, np.full((1, 2), pid, np.float32), (2, 2))
try:
  checkpoints.save_checkpoint_multiprocess(ckpt, {"g": garr}, step=3)
  mpa = "saved"
except errors.MPACheckpointingRequiredError:
  mpa = "raised"
print("RESULT " + json.dumps({
  "count": jax.process_count(), "paths": paths, "files": sorted(os.listdir(ckpt)),
  "w": np.asarray(restored["w"]).tolist(), "step": int(restored["step"]), "mpa": mpa}))
jax.distributed.shutdown()
'''


@pytest.mark.slow
def test_two_processes_on_loopback_share_one_checkpoint(tmp_path, free_port, wait_workers):
  """Two JAX processes (jax.distributed over 127.0.0.1) save and restore together."""
  import json
  import subprocess
  import sys

  script = tmp_path / "worker.py"
  script.write_text(_WORKER)
  ckpt = tmp_path / "ckpt"
  ckpt.mkdir()
  env = {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": ""}  # one CPU device each
  port = str(free_port)
  procs = [
    subprocess.Popen([sys.executable, str(script), str(i), port, str(ckpt)], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for i in range(2)
  ]
  outs = wait_workers(procs, 180)
  results = []
  for p, out in zip(procs, outs):
    assert p.returncode == 0, out[-2000:]
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    results.append(json.loads(line[len("RESULT "):]))
  for r in results:
    assert r["count"] == 2
    assert r["paths"] == [str(ckpt / "checkpoint_1"), str(ckpt / "checkpoint_2")]
    # process 0 wrote and pruned (the file and its integrity record); nobody raced
    assert r["files"] == [".checkpoint_2.flaxen-integrity", "checkpoint_2"]
    assert r["w"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and r["step"] == 7
    assert r["mpa"] == "raised"  # a global array spanning both processes needs Orbax


# ------------------------------------------ a sharded state over 2 processes x 4 devices, Orbax

_SHARDED_WORKER = r'''
import json, os, sys
pid, port, ckpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=pid)
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from flaxen import config, errors
from flaxen.training import checkpoints

assert config.flax_use_orbax_checkpointing  # the default
mesh = jax.make_mesh((2, 4), ("data", "model"), devices=jax.devices())
def global_array(shape, spec, fill):
  sharding = NamedSharding(mesh, spec)
  full = fill(np.prod(shape)).reshape(shape).astype(np.float32)
  return jax.make_array_from_callback(shape, sharding, lambda idx: full[idx])
state = {
  "params": {"kernel": global_array((8, 16), P("data", "model"), np.arange),
             "bias": global_array((16,), P("model"), lambda n: np.arange(n) * 10.0)},
  "step": 3,
}
assert not state["params"]["kernel"].is_fully_addressable
paths = [checkpoints.save_checkpoint_multiprocess(ckpt, state, step=s, keep=1) for s in (2, 3)]
target = {
  "params": {"kernel": global_array((8, 16), P("data", "model"), np.zeros),
             "bias": global_array((16,), P("model"), np.zeros)},
  "step": 0,
}
restored = checkpoints.restore_checkpoint(ckpt, target)
same = all(
  np.array_equal(np.asarray(a.data), np.asarray(b.data)) and a.index == b.index
  for key in ("kernel", "bias")
  for a, b in zip(restored["params"][key].addressable_shards, state["params"][key].addressable_shards))
specs = [str(restored["params"][k].sharding.spec) for k in ("kernel", "bias")]
config.update("flax_use_orbax_checkpointing", False)
try:
  checkpoints.save_checkpoint_multiprocess(ckpt, state, step=4)
  mpa = "saved"
except errors.MPACheckpointingRequiredError as e:
  mpa = "raised" if "flax_use_orbax_checkpointing" in str(e) else "bad message"
print("RESULT " + json.dumps({
  "count": jax.process_count(), "devices": jax.local_device_count(), "paths": paths,
  "files": sorted(os.listdir(ckpt)), "same": same, "specs": specs,
  "step": restored["step"], "step_type": type(restored["step"]).__name__, "mpa": mpa}))
jax.distributed.shutdown()
'''


@pytest.mark.slow
def test_two_processes_save_and_restore_a_sharded_state_with_orbax(tmp_path, free_port, wait_workers):
  """2 JAX processes x 4 CPU devices: a state sharded over all 8 devices goes through Orbax."""
  import json
  import subprocess
  import sys

  script = tmp_path / "worker.py"
  script.write_text(_SHARDED_WORKER)
  ckpt = tmp_path / "ckpt"
  ckpt.mkdir()
  env = {**os.environ, "JAX_PLATFORMS": "cpu",
         "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
  port = str(free_port)
  procs = [
    subprocess.Popen([sys.executable, str(script), str(i), port, str(ckpt)], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for i in range(2)
  ]
  outs = wait_workers(procs, 300)
  for p, out in zip(procs, outs):
    assert p.returncode == 0, out[-3000:]
    r = json.loads(next(x for x in out.splitlines() if x.startswith("RESULT "))[len("RESULT "):])
    assert r["count"] == 2 and r["devices"] == 4
    assert r["paths"] == [str(ckpt / "checkpoint_2"), str(ckpt / "checkpoint_3")]
    # one committed directory and its integrity record (written by process 0, which pruned)
    assert r["files"] == [".checkpoint_3.flaxen-integrity", "checkpoint_3"]
    assert r["same"] is True  # every process got its own shards back, bit for bit
    assert r["specs"] == ["P('data', 'model')", "P('model',)"]
    assert r["step"] == 3 and r["step_type"] == "int"
    assert r["mpa"] == "raised"  # the msgpack format cannot hold it, and says which flag to use
