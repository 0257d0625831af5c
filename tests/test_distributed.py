"""ember.distributed and DistributedDataParallel: the MPI cases run under ``mpirun``.

The programs in tests/mpi/cases.py check their own results on every rank (collectives against
NumPy for every op and dtype, DDP against single-process training on the concatenated batch);
here we launch them with 1, 2 and 4 processes and check that every rank passed.  Without Open
MPI or mpi4py these tests skip with the reason printed (pytest -ra); .ci/run installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember.utils.data.distributed import DistributedSampler

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "mpi" / "cases.py"


def _mpi_missing() -> str | None:
    if shutil.which("mpirun") is None:
        return "Open MPI is not installed (apt-get install openmpi-bin libopenmpi-dev)"
    if not dist.is_mpi_available():
        return "mpi4py is not installed (pip install -e '.[distributed]')"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def mpirun(n: int, *args: str, timeout: float = 240, env: dict | None = None) -> tuple:
    """Run ``python args`` on n processes; returns (exit status, output, seconds)."""
    e = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
             OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(ROOT), **(env or {}))
    cmd = ["mpirun", "--oversubscribe", "--bind-to", "none", "-n", str(n), sys.executable, *args]
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e, cwd=ROOT)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t


def run_case(name: str, n: int) -> None:
    rc, out, _ = mpirun(n, str(CASES), name)
    passed = sum(f"PASS {name} rank {r}" in out for r in range(n))
    assert rc == 0 and passed == n, out[-4000:]


@needs_mpi
@pytest.mark.parametrize("n", [1, 2, 4])
def test_collectives_match_numpy_every_op_and_dtype(n: int) -> None:
    run_case("collectives", n)


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_ddp_equals_single_process_on_concatenated_batch(n: int) -> None:
    run_case("ddp_equivalence", n)


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collective_misuse_is_reported_on_every_rank(n: int) -> None:
    run_case("errors", n)


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_ddp_no_sync_unused_parameters_buffers_and_model_check(n: int) -> None:
    run_case("ddp_features", n)


@needs_mpi
def test_distributed_sampler_partitions_under_mpi() -> None:
    run_case("sampler", 3)


@needs_mpi
@pytest.mark.parametrize("case, text", [
    ("die", "rank 1 of 2 stopped on an uncaught ValueError"),
    ("exit", "exit"),
    ("hang", "ember.distributed.all_reduce: timed out after 3 s on rank 0 of 2"),
])
def test_a_dead_or_stuck_rank_ends_the_job_with_a_clear_error(case: str, text: str) -> None:
    rc, out, secs = mpirun(2, str(CASES), case, timeout=120, env={"EMBER_TEST_TIMEOUT": "3"})
    assert rc != 0, out
    assert text in out, out[-3000:]
    assert secs < 60, f"the job took {secs:.0f} s to end"
    assert "PASS" not in out


@needs_mpi
def test_digits_example_trains_data_parallel(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (.[examples])")
    rc, out, _ = mpirun(2, "-m", "ember.examples.digits", "--distributed", "--epochs", "12",
                        "--out", str(tmp_path))
    assert rc == 0, out[-3000:]
    line = [ln for ln in out.splitlines() if ln.startswith("final test accuracy")]
    assert len(line) == 1 and "on 2 ranks" in line[0], out[-2000:]  # rank 0 alone prints
    acc = float(line[0].split()[3].rstrip("%"))
    assert acc >= 96.0, line
    assert (tmp_path / "digits_cnn.ember").exists()


# ---------------------------------------------------------------- without launching MPI
def test_calls_before_init_process_group_raise_torchs_error() -> None:
    assert not dist.is_initialized()
    text = "Default process group has not been initialized"
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(ember.ones(2)),
                 lambda: dist.broadcast(ember.ones(2), 0), dist.barrier,
                 lambda: dist.send(ember.ones(2), 1)):
        with pytest.raises(ValueError, match=text):
            call()
    from ember.nn.parallel import DistributedDataParallel
    with pytest.raises(ValueError, match=text):
        DistributedDataParallel(ember.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=text):
        DistributedSampler(list(range(4)))


def test_backends_other_than_mpi_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="Invalid backend: 'nccl'.*MPI only"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()
    assert dist.is_available()
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"


def test_import_ember_does_not_import_mpi() -> None:
    code = ("import sys, ember, ember.distributed, ember.nn.parallel; "
            "assert 'mpi4py' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 11])
@pytest.mark.parametrize("reps", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_layout_as_torch(n: int, reps: int, drop_last: bool) -> None:
    shares = [list(DistributedSampler(range(n), reps, r, shuffle=False, drop_last=drop_last))
              for r in range(reps)]
    # torch's layout, by hand: pad by repeating from the start, or drop the tail
    if drop_last and n % reps:
        per = -(-(n - reps) // reps)
    else:
        per = -(-n // reps)
    idx = list(range(n))
    idx = (idx * (per * reps // max(n, 1) + 1))[:per * reps]
    assert shares == [idx[r::reps] for r in range(reps)]
    assert all(len(s) == per for s in shares)
    try:
        from torch.utils.data.distributed import DistributedSampler as TorchSampler
    except ImportError:
        return
    assert shares == [list(TorchSampler(range(n), reps, r, shuffle=False, drop_last=drop_last))
                      for r in range(reps)]


def test_distributed_sampler_shuffles_by_epoch_and_partitions() -> None:
    ds = list(range(23))
    a = [list(DistributedSampler(ds, 3, r, seed=4)) for r in range(3)]
    assert sorted(i for s in a for i in s)[:23] != a[0]  # shuffled
    assert set(i for s in a for i in s) == set(ds) and sum(map(len, a)) == 24
    b = [list(DistributedSampler(ds, 3, r, seed=4)) for r in range(3)]
    assert a == b  # same seed, same epoch: same split on every rank
    s = DistributedSampler(ds, 3, 0, seed=4)
    s.set_epoch(1)
    assert list(s) != a[0]
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(ds, 3, 3)
    assert np.array_equal(sorted(DistributedSampler(ds, 1, 0)), ds)
