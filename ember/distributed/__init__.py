"""ember.distributed: torch.distributed's API over MPI (launch with ``mpirun -n N python ...``).

    import ember.distributed as dist
    dist.init_process_group("mpi")          # rank and world size come from mpirun
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on t's own buffer

Collectives: all_reduce, broadcast, all_gather, all_gather_into_tensor, reduce_scatter,
reduce_scatter_tensor, reduce, gather, scatter, barrier; point to point: send, recv, isend,
irecv.  ``async_op=True`` returns a :class:`Work` whose ``wait()`` completes the call.  MPI is
imported only when a group is created; needs the ``distributed`` extra (Open MPI + mpi4py).
"""

from __future__ import annotations

from ._collectives import (
    RedOpType,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from ._group import (
    destroy_process_group,
    init_process_group,
    is_initialized,
    is_mpi_available,
    world,
)
from ._p2p import irecv, isend, recv, send


def is_available() -> bool:
    """ember.distributed exists on every install (it needs MPI only to create a group)."""
    return True


def get_rank(group: object = None) -> int:
    """This process's rank in the default group (0 .. world size - 1)."""
    return world().rank


def get_world_size(group: object = None) -> int:
    """How many processes the job has."""
    return world().size


def get_backend(group: object = None) -> str:
    """The backend of the default group: always ``'mpi'``."""
    world()
    return "mpi"


def is_nccl_available() -> bool:
    """NCCL is not an ember backend."""
    return False


def is_gloo_available() -> bool:
    """Gloo is not an ember backend (use MPI)."""
    return False


__all__ = [
    "ReduceOp", "RedOpType", "Work", "all_gather", "all_gather_into_tensor", "all_reduce",
    "barrier", "broadcast", "destroy_process_group", "gather", "get_backend", "get_rank",
    "get_world_size", "init_process_group", "irecv", "is_available", "is_initialized",
    "is_mpi_available", "isend", "recv", "reduce", "reduce_scatter", "reduce_scatter_tensor",
    "scatter", "send",
]
