"""The default process group over MPI: start-up, waiting with a timeout, failure handling.

MPI (through mpi4py) is imported only by :func:`init_process_group`, so ``import ember`` and
``import ember.distributed`` stay fast and work where MPI is absent.  Every collective is started
as a non-blocking MPI request and waited for by :func:`wait`, which polls with a deadline (and
advances the pending receives and queued collectives meanwhile): a rank that died or skipped a
collective makes the others raise a clear error instead of hanging.  An uncaught exception on any
rank aborts the whole job (``MPI_Abort``), so the launcher stops every process at once rather
than leaving the survivors blocked in their next collective.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Any

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for non-NCCL backends

NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call "
    "init_process_group."
)


class _Group:
    """The world: an MPI communicator of our own (a duplicate of COMM_WORLD) and its facts."""

    def __init__(self, mpi: Any, comm: Any, timeout: float) -> None:
        self.MPI = mpi
        self.comm = comm
        self.rank: int = comm.Get_rank()
        self.size: int = comm.Get_size()
        self.timeout = timeout
        self.pending: list = []  # posted point-to-point receives, advanced by every wait()
        # collectives whose headers are on their way (a communicator of their own), in call
        # order: each one's data transfer starts once every rank's header has come and agrees
        self.queue: list = []
        self.check: Any = None

    def dup(self) -> Any:
        """A private communicator (DDP's buckets run on their own so user collectives never
        interleave with them)."""
        return self.comm.Dup()


_WORLD: _Group | None = None
_PREV_HOOK: Any = None


def world() -> _Group:
    """The default group; ValueError (torch's text) before ``init_process_group``."""
    if _WORLD is None:
        raise ValueError(NOT_INITIALIZED)
    return _WORLD


def is_initialized() -> bool:
    """Whether the default process group exists."""
    return _WORLD is not None


def import_mpi() -> Any:
    """mpi4py's MPI module, or a RuntimeError that says how to install it."""
    # Open MPI's non-blocking all-reduce picks a binomial tree by default, which moves 2x the
    # data of its blocking all-reduce on one host; Rabenseifner's reduce-scatter + all-gather is
    # as fast as the blocking call (measured: 2 MB in 0.35 ms vs 0.85 ms).  A user's own
    # setting wins; it must be in the environment before MPI starts.
    os.environ.setdefault("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "3")
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            "ember.distributed needs MPI: install Open MPI and mpi4py (Debian: apt-get install "
            "openmpi-bin libopenmpi-dev; then pip install 'ember[distributed]') and launch with "
            f"mpirun -n N python script.py ({e})"
        ) from None
    return MPI


def is_mpi_available() -> bool:
    """Whether mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def _seconds(timeout: Any) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def _abort_on_uncaught(exc_type: Any, exc: Any, tb: Any) -> None:
    """sys.excepthook while a group exists: print, then abort every rank of the job."""
    hook = _PREV_HOOK or sys.__excepthook__
    hook(exc_type, exc, tb)
    w = _WORLD
    if w is not None and w.size > 1 and not issubclass(exc_type, KeyboardInterrupt):
        sys.stderr.write(
            f"ember.distributed: rank {w.rank} of {w.size} stopped on an uncaught "
            f"{exc_type.__name__}; aborting the job so the other ranks do not wait forever\n"
        )
        sys.stderr.flush()
        w.MPI.COMM_WORLD.Abort(1)


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout: Any = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the job started by ``mpirun``: rank and world size come from the MPI launcher."""
    global _WORLD, _PREV_HOOK
    if _WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in ("mpi", "cpu:mpi"):
        raise ValueError(
            f"Invalid backend: '{backend}'. ember.distributed runs over MPI only: use "
            "init_process_group(backend='mpi') and launch with mpirun -n N python script.py"
        )
    mpi = import_mpi()
    comm = mpi.COMM_WORLD.Dup()
    g = _Group(mpi, comm, _seconds(timeout))
    for what, want, got in (("world_size", world_size, g.size), ("rank", rank, g.rank)):
        if want not in (-1, None) and int(want) != got:
            comm.Free()
            raise ValueError(
                f"init_process_group: {what}={want} was given but the MPI launcher says {got}; "
                "with the mpi backend rank and world size come from mpirun (leave them out)"
            )
    g.check = comm.Dup()
    _WORLD = g
    _PREV_HOOK = sys.excepthook
    sys.excepthook = _abort_on_uncaught


def destroy_process_group(group: Any = None) -> None:
    """Leave the group (MPI itself is finalized when the interpreter exits)."""
    global _WORLD, _PREV_HOOK
    g = world()
    _WORLD = None
    if sys.excepthook is _abort_on_uncaught:
        sys.excepthook = _PREV_HOOK or sys.__excepthook__
    _PREV_HOOK = None
    try:
        g.check.Free()
        g.comm.Free()
    except Exception:  # noqa: BLE001 - freeing during shutdown is best effort
        pass


def wait(req: Any, what: str, g: _Group | None = None, status: Any = None) -> None:
    """Wait for an MPI request, polling with a deadline (the group's timeout).

    Spins (like MPI's own blocking calls) for the first few milliseconds, since collectives
    between live ranks finish in microseconds, then sleeps with a growing interval up to 1 ms so
    that a long wait leaves the cores to the ranks still computing.
    """
    if req.Test(status):
        return
    g = g or world()
    now = time.monotonic()
    deadline = now + g.timeout
    spin_until = now + 0.005
    pause = 5e-5
    spins = 0
    pending, queue = g.pending, g.queue
    while not req.Test(status):
        if pending:
            for p in tuple(pending):
                if p is not req:
                    p.Test()
        if queue and queue[0] is not req:
            queue[0].Test()  # start the collectives whose headers have come
        spins += 1
        if spins & 63:
            continue
        now = time.monotonic()
        if now > spin_until:
            time.sleep(pause)
            pause = min(pause * 1.5, 1e-3)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"ember.distributed.{what}: timed out after {g.timeout:g} s on rank {g.rank} "
                    f"of {g.size} waiting for the other ranks; one of them may have died, hung, "
                    "or skipped this call (every rank must make the same collective calls in the "
                    "same order). Pass timeout= to init_process_group to change the limit."
                )

