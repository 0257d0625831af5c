"""DistributedDataParallel step time at 1, 2 and 4 MPI processes, and the share spent talking.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ddp.py [--steps 40]

The model is the benchmarks' MLP (784-512-256-10, float32, batch 128 per rank, SGD).  Each
process count runs once under ``mpirun`` (one BLAS thread per process, so ranks do not fight
over the 2 cores), timing four variants of the same step, alternating, medians over the steps
(slowest rank per step):

- ``local``: forward + backward + step with no communication (the compute floor);
- ``ddp``: DistributedDataParallel, default buckets (first ~1 MB, then 25 MB), all-reduce of
  each bucket started from the gradient hooks while backward goes on;
- ``ddp-small``: the same with 0.25 MB buckets (more, earlier all-reduces);
- ``after``: plain model, then ONE all-reduce of all gradients after backward (no overlap).

``comm`` is the time of a bare all-reduce of all gradients (2.1 MB); ``share`` is
(step - local) / step, the part of a step that communication adds.  Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(steps: int) -> None:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import ember
    import ember.distributed as dist
    import ember.nn as nn
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    r, n = dist.get_rank(), dist.get_world_size()
    MPI = dist.world().MPI
    comm = dist.world().comm

    def mlp() -> nn.Module:
        ember.manual_seed(0)
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, 10))
    rng = np.random.default_rng(r)
    x = ember.from_numpy(rng.normal(size=(128, 784)).astype(np.float32))
    y = ember.from_numpy(rng.integers(0, 10, 128))
    plain = mlp()
    models = {"local": plain, "ddp": DistributedDataParallel(mlp()),
              "ddp-small": DistributedDataParallel(mlp(), bucket_cap_mb=0.25),
              "after": plain}
    opts = {k: ember.optim.SGD(m.parameters(), lr=0.01) for k, m in models.items()}
    flat = np.empty(sum(p.numel() for p in plain.parameters()), np.float32)

    def step(kind: str) -> None:
        m, o = models[kind], opts[kind]
        o.zero_grad()
        F.cross_entropy(m(x), y).backward()
        if kind == "after" and n > 1:
            ps = list(m.parameters())
            off = 0
            for p in ps:
                k = p.numel()
                flat[off:off + k] = p.grad._data.reshape(-1)
                off += k
            comm.Allreduce(MPI.IN_PLACE, flat, MPI.SUM)
            off = 0
            for p in ps:
                k = p.numel()
                p.grad._data = flat[off:off + k].reshape(p.shape) / n
                off += k
        o.step()

    times: dict = {k: [] for k in models}
    times["comm"] = []
    for it in range(steps + 5):
        for kind in ("local", "ddp", "ddp-small", "after", "comm"):
            comm.Barrier()
            t = time.perf_counter()
            if kind == "comm":
                comm.Allreduce(MPI.IN_PLACE, flat, MPI.SUM)
            else:
                step(kind)
            dt = np.array([time.perf_counter() - t])
            comm.Allreduce(MPI.IN_PLACE, dt, MPI.MAX)  # the slowest rank sets the pace
            if it >= 5:
                times[kind].append(dt[0])
    res = {k: statistics.median(v) for k, v in times.items()}
    for kind in ("ddp", "ddp-small"):  # per-step means of DDP's own accounting, slowest rank
        st = models[kind].comm_stats
        per = np.array([st[f] / max(st["steps"], 1)
                        for f in ("launch_s", "exposed_wait_s", "unpack_s")])
        comm.Allreduce(MPI.IN_PLACE, per, MPI.MAX)
        res[f"{kind}:launch"], res[f"{kind}:wait"], res[f"{kind}:unpack"] = per
        res[f"{kind}:buckets"] = len(models[kind]._buckets)
    if r == 0:
        print("RESULT", n, " ".join(f"{k}={v}" for k, v in res.items()))
    dist.destroy_process_group()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--procs", default="1,2,4")
    a = ap.parse_args()
    if a.worker:
        worker(a.steps)
        return
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    rows = []
    for n in map(int, a.procs.split(",")):
        p = subprocess.run(["mpirun", "--oversubscribe", "--bind-to", "none", "-n", str(n),
                            sys.executable, __file__, "--worker", "--steps", str(a.steps)],
                           capture_output=True, text=True, env=env)
        if p.returncode:
            sys.exit(f"{n} processes failed:\n{p.stdout}\n{p.stderr}")
        out = p.stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
        vals = dict(kv.split("=") for kv in line.split()[2:])
        rows.append((n, {k: float(v) for k, v in vals.items()}))
    print(f"DDP step, MLP 784-512-256-10 float32, batch 128 per rank, {os.cpu_count()} cores, "
          "medians (slowest rank)")
    print(f"{'procs':>5} {'local':>9} {'ddp':>9} {'ddp-small':>10} "
          f"{'after':>9} {'comm':>9} "
          f"{'share ddp':>10} {'share after':>12}")
    for n, v in rows:
        ms = {k: v[k] * 1e3 for k in v}
        share = (v["ddp"] - v["local"]) / v["ddp"]
        share_after = (v["after"] - v["local"]) / v["after"]
        print(f"{n:>5} {ms['local']:>7.2f}ms {ms['ddp']:>7.2f}ms {ms['ddp-small']:>8.2f}ms "
              f"{ms['after']:>7.2f}ms {ms['comm']:>7.2f}ms "
              f"{share:>10.0%} {share_after:>12.0%}")
    print("\nInside DDP (per step, slowest rank): copy+start of the buckets during backward, the "
          "wait left after backward\n(communication not hidden), averaging back into .grad")
    print(f"{'procs':>5} {'variant':>10} {'buckets':>8} {'launch':>9} {'wait':>9} {'unpack':>9} "
          f"{'bare all-reduce':>16}")
    for n, v in rows:
        if n == 1:
            continue
        for kind in ("ddp", "ddp-small"):
            print(f"{n:>5} {kind:>10} {int(v[kind + ':buckets']):>8} "
                  f"{v[kind + ':launch'] * 1e3:>7.2f}ms {v[kind + ':wait'] * 1e3:>7.2f}ms "
                  f"{v[kind + ':unpack'] * 1e3:>7.2f}ms {v['comm'] * 1e3:>14.2f}ms")


if __name__ == "__main__":
    main()
