"""Collectives and point-to-point messages on ember tensors, in place, over MPI.

Each call hands the tensor's own NumPy buffer to MPI (no copy through Python lists; a staging
copy only for non-contiguous or float16 tensors, which MPI cannot reduce directly), starts a
non-blocking request and waits for it with the group's timeout.  Before the data moves, the ranks
exchange a small header (which call, dtype, shape, root) so that a rank passing a different shape
or calling a different collective gets an error naming every rank's tensor instead of a hang or
silently wrong numbers.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import numpy as np

from .._tensor import Tensor
from ._group import _Group, wait, world


class RedOpType(enum.Enum):
    """How values from the ranks are combined (torch.distributed.ReduceOp)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


ReduceOp = RedOpType
RedOpType.RedOpType = RedOpType  # torch spells it ReduceOp.RedOpType too

_CALLS = ("all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
          "reduce_scatter_tensor", "reduce", "gather", "scatter", "barrier", "send")
_META = 24
_MAXDIM = _META - 6


def _mpi_op(g: _Group, op: Any, dtype: np.dtype, what: str) -> Any:
    """The MPI operation for ``op`` on ``dtype`` (bool reduces with the logical ops)."""
    if not isinstance(op, RedOpType):
        raise TypeError(f"ember.distributed.{what}: op must be a ReduceOp, got {op!r}")
    M = g.MPI
    if dtype == np.bool_:
        if op in (RedOpType.SUM, RedOpType.MAX, RedOpType.BOR):
            return M.LOR
        if op in (RedOpType.PRODUCT, RedOpType.MIN, RedOpType.BAND):
            return M.LAND
        if op is RedOpType.BXOR:
            return M.LXOR
    if op is RedOpType.AVG:
        if dtype.kind != "f":
            raise ValueError(
                f"ember.distributed.{what}: ReduceOp.AVG needs a floating-point tensor, got "
                f"{dtype.name}; reduce with ReduceOp.SUM and divide, or convert with .float()"
            )
        return M.SUM
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dtype.kind == "f":
        raise ValueError(
            f"ember.distributed.{what}: ReduceOp.{op.name} is a bitwise op and needs an integer "
            f"or bool tensor, got {dtype.name}"
        )
    return {RedOpType.SUM: M.SUM, RedOpType.PRODUCT: M.PROD, RedOpType.MIN: M.MIN,
            RedOpType.MAX: M.MAX, RedOpType.BAND: M.BAND, RedOpType.BOR: M.BOR,
            RedOpType.BXOR: M.BXOR}[op]


def _group(group: Any, what: str) -> _Group:
    g = world()
    if group is not None and group is not g:
        raise ValueError(
            f"ember.distributed.{what}: only the default group (group=None) is supported"
        )
    return g


def _tensor(t: Any, what: str, name: str = "tensor") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(
            f"ember.distributed.{what}: {name} must be an ember Tensor, got {type(t).__name__}"
        )
    return t


def _header(call: str, dtype: np.dtype, shape: tuple, root: int = -1) -> np.ndarray:
    h = np.zeros(_META, np.int64)
    h[0] = _CALLS.index(call)
    h[1] = dtype.num
    h[2] = root
    h[3] = len(shape)
    h[4] = math.prod(shape)
    h[5] = hash(shape[_MAXDIM:]) if len(shape) > _MAXDIM else 0
    h[6:6 + min(len(shape), _MAXDIM)] = shape[:_MAXDIM]
    return h


def _describe(h: np.ndarray) -> str:
    call = _CALLS[int(h[0])] if 0 <= h[0] < len(_CALLS) else "?"
    if call == "barrier":
        return call
    shape = [int(s) for s in h[6:6 + min(int(h[3]), _MAXDIM)]]
    dtype = _DTYPE_NAMES.get(int(h[1]), f"dtype#{int(h[1])}")
    root = f" with root {int(h[2])}" if h[2] >= 0 else ""
    return f"{call} on a {shape} {dtype} tensor{root}"


_DTYPE_NAMES = {np.dtype(n).num: n for n in ("float16", "float32", "float64", "int8", "int16",
                                             "int32", "int64", "uint8", "bool", "complex64",
                                             "complex128")}


class _Queued:
    """A collective whose data moves once every rank's header has come and agrees.

    Headers travel on a communicator of their own (``g.check``), so starting a collective never
    blocks: ``async_op=True`` returns at once even when other ranks have not reached the call.
    The data transfers start in call order (:func:`_advance`), the same order on every rank, as
    MPI requires.  When the headers disagree every rank skips the transfer and ``error`` says
    what each rank called.
    """

    def __init__(self, g: _Group, call: str, head: np.ndarray, start: Any) -> None:
        self.g, self.call, self.start = g, call, start
        self.every = np.empty((g.size, _META), np.int64)
        self.hreq = g.check.Iallgather(head, self.every)
        self.req: Any = None
        self.error: Exception | None = None
        g.queue.append(self)
        _advance(g)

    def Test(self, status: Any = None) -> bool:  # noqa: N802 - polled by wait() like a request
        if self.start is not None:
            _advance(self.g)
            if self.start is not None:
                return False
        return self.req is None or bool(self.req.Test())


def _advance(g: _Group) -> None:
    """Start, in call order, the queued collectives whose headers have all arrived."""
    q = g.queue
    while q and q[0].hreq.Test():
        c = q.pop(0)
        every, start = c.every, c.start
        c.start = None
        if (every == every[0]).all():
            c.req = start()
            continue
        lines = "; ".join(f"rank {r} called {_describe(every[r])}" for r in range(g.size))
        c.error = RuntimeError(
            f"ember.distributed.{c.call}: the ranks disagree: {lines}. Every rank must make the "
            "same collective call, in the same order, with tensors of the same shape and dtype."
        )


def _collective(g: _Group, call: str, dtype: Any, shape: tuple, root: int, start: Any) -> Any:
    """The request of a collective: ``start()``'s once every rank agrees (None on one rank)."""
    if g.size == 1:
        return None
    return _Queued(g, call, _header(call, np.dtype(dtype), shape, root), start)


def _stage(a: np.ndarray) -> np.ndarray:
    """A buffer MPI can use in place of ``a``: ``a`` itself when contiguous and writable."""
    if a.dtype == np.float16:
        return a.astype(np.float32)
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.ascontiguousarray(a)


class Work:
    """A started collective (``async_op=True``): ``wait()`` finishes it and writes the result."""

    def __init__(self, req: Any, what: str, g: _Group, finish: Any = None,
                 result: Any = None) -> None:
        self._req, self._what, self._g, self._finish = req, what, g, finish
        self._result = result
        self._done = False
        self._error: Exception | None = None
        self._value: Any = None

    def wait(self, timeout: Any = None) -> bool:
        """Block until the data has arrived (or the group's timeout passes); returns True.

        Raises the error of a call the ranks disagreed on (shapes, dtypes, which collective).
        """
        if not self._done:
            if self._req is not None:
                wait(self._req, self._what, self._g)
            self._complete()
        if self._error is not None:
            raise self._error
        return True

    def _complete(self) -> None:
        self._done = True
        self._error = getattr(self._req, "error", None)
        if self._error is None and self._finish is not None:
            self._value = self._finish()
        self._finish = None

    def is_completed(self) -> bool:
        """Whether it has finished (a non-blocking test)."""
        if not self._done and (self._req is None or self._req.Test()):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        """Whether it finished without error."""
        return self.is_completed() and self._error is None

    def exception(self) -> Exception | None:
        """The error of a finished call (``wait`` raises it), else None."""
        return self._error

    def result(self) -> list:
        """The tensors written by the call."""
        self.wait()
        return list(self._result or [])


def _run(req: Any, what: str, g: _Group, finish: Any, async_op: bool,
         result: Any = None) -> Work | None:
    w = Work(req, what, g, finish, result)
    if async_op:
        return w
    w.wait()
    return None


def _write_back(t: Tensor, a: np.ndarray, buf: np.ndarray, post: Any = None) -> Any:
    def finish() -> None:
        if post is not None:
            post(buf)
        if buf is not a:
            a[...] = buf
        t._bump()
    return finish


def all_reduce(tensor: Tensor, op: RedOpType = RedOpType.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """tensor <- op over ranks of tensor (in place; AVG = SUM / world size)."""
    g = _group(group, "all_reduce")
    a = _tensor(tensor, "all_reduce")._array()
    mop = _mpi_op(g, op, a.dtype, "all_reduce")
    buf = _stage(a)
    post = (lambda b: np.divide(b, g.size, out=b)) if op is RedOpType.AVG else None
    req = _collective(g, "all_reduce", a.dtype, a.shape, -1,
                      lambda: g.comm.Iallreduce(g.MPI.IN_PLACE, buf, mop))
    return _run(req, "all_reduce", g, _write_back(tensor, a, buf, post), async_op, [tensor])


def _root(g: _Group, r: Any, what: str, name: str) -> int:
    r = 0 if r is None else int(r)
    if not 0 <= r < g.size:
        raise ValueError(
            f"ember.distributed.{what}: {name}={r} is not a rank of this group (0..{g.size - 1})"
        )
    return r


def broadcast(tensor: Tensor, src: int | None = None, group: Any = None,
              async_op: bool = False, group_src: int | None = None) -> Work | None:
    """tensor <- tensor of rank ``src`` on every rank (in place)."""
    g = _group(group, "broadcast")
    src = _root(g, src if src is not None else group_src, "broadcast", "src")
    a = _tensor(tensor, "broadcast")._array()
    buf = _stage(a)
    req = _collective(g, "broadcast", a.dtype, a.shape, src, lambda: g.comm.Ibcast(buf, root=src))
    return _run(req, "broadcast", g, _write_back(tensor, a, buf), async_op, [tensor])


def _check_list(g: _Group, lst: Any, a: np.ndarray, what: str, name: str) -> list:
    if not isinstance(lst, (list, tuple)) or len(lst) != g.size:
        n = len(lst) if isinstance(lst, (list, tuple)) else type(lst).__name__
        raise ValueError(
            f"ember.distributed.{what}: {name} must be a list of {g.size} tensors (one per rank), "
            f"got {n}"
        )
    for i, t in enumerate(lst):
        d = _tensor(t, what, f"{name}[{i}]")._data
        if d.shape != a.shape or d.dtype != a.dtype:
            raise ValueError(
                f"ember.distributed.{what}: {name}[{i}] has shape {list(d.shape)} {d.dtype.name} "
                f"but the tensor has {list(a.shape)} {a.dtype.name}; all must match"
            )
    return list(lst)


def _wire(a: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if a.dtype == np.float16 else a.dtype


def _fill(outs: list, recv: np.ndarray) -> Any:
    """A finish step writing ``recv[r]`` into ``outs[r]`` in place (gather and all_gather)."""
    def finish() -> None:
        for r, t in enumerate(outs):
            t._array()[...] = recv[r]
            t._bump()
    return finish


def all_gather(tensor_list: list, tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:
    """tensor_list[r] <- tensor of rank r, for every r."""
    g = _group(group, "all_gather")
    a = _tensor(tensor, "all_gather")._array()
    outs = _check_list(g, tensor_list, a, "all_gather", "tensor_list")
    send = np.ascontiguousarray(a, dtype=_wire(a))
    recv = np.empty((g.size,) + a.shape, _wire(a))
    req = _collective(g, "all_gather", a.dtype, a.shape, -1,
                      lambda: g.comm.Iallgather(send, recv))
    if req is None:
        recv[0] = send

    return _run(req, "all_gather", g, _fill(outs, recv), async_op, outs)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """output <- the ranks' inputs concatenated along dim 0 (or stacked: shape [world, ...])."""
    g = _group(group, "all_gather_into_tensor")
    a = _tensor(input_tensor, "all_gather_into_tensor", "input_tensor")._array()
    o = _tensor(output_tensor, "all_gather_into_tensor", "output_tensor")._array()
    if o.size != a.size * g.size or o.dtype != a.dtype:
        raise ValueError(
            f"ember.distributed.all_gather_into_tensor: output_tensor {list(o.shape)} "
            f"{o.dtype.name} must hold world_size ({g.size}) x input {list(a.shape)} "
            f"{a.dtype.name}"
        )
    send = np.ascontiguousarray(a, dtype=_wire(a))
    buf = _stage(o)
    req = _collective(g, "all_gather_into_tensor", a.dtype, a.shape, -1,
                      lambda: g.comm.Iallgather(send, buf))
    if req is None:
        buf.reshape(-1)[...] = send.reshape(-1)
    return _run(req, "all_gather_into_tensor", g, _write_back(output_tensor, o, buf), async_op,
                [output_tensor])


def reduce_scatter(output: Tensor, input_list: list, op: RedOpType = RedOpType.SUM,
                   group: Any = None, async_op: bool = False) -> Work | None:
    """output <- op over ranks of input_list[my rank]."""
    g = _group(group, "reduce_scatter")
    o = _tensor(output, "reduce_scatter", "output")._array()
    ins = _check_list(g, input_list, o, "reduce_scatter", "input_list")
    mop = _mpi_op(g, op, o.dtype, "reduce_scatter")
    send = np.empty((g.size,) + o.shape, _wire(o))
    for r, t in enumerate(ins):
        send[r] = t._data
    return _reduce_scatter_block(g, output, o, send, mop, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: RedOpType = RedOpType.SUM,
                          group: Any = None, async_op: bool = False) -> Work | None:
    """output <- op over ranks of my rank's chunk of ``input`` (split along dim 0)."""
    g = _group(group, "reduce_scatter_tensor")
    o = _tensor(output, "reduce_scatter_tensor", "output")._array()
    i = _tensor(input, "reduce_scatter_tensor", "input")._array()
    if i.size != o.size * g.size or i.dtype != o.dtype:
        raise ValueError(
            f"ember.distributed.reduce_scatter_tensor: input {list(i.shape)} {i.dtype.name} must "
            f"hold world_size ({g.size}) x output {list(o.shape)} {o.dtype.name}"
        )
    mop = _mpi_op(g, op, o.dtype, "reduce_scatter_tensor")
    send = np.ascontiguousarray(i, dtype=_wire(i)).reshape((g.size,) + o.shape)
    return _reduce_scatter_block(g, output, o, send, mop, op, "reduce_scatter_tensor", async_op)


def _reduce_scatter_block(g: _Group, out: Tensor, o: np.ndarray, send: np.ndarray, mop: Any,
                          op: RedOpType, what: str, async_op: bool) -> Work | None:
    buf = _stage(o) if o.dtype != np.float16 else np.empty(o.shape, np.float32)
    req = _collective(g, what, o.dtype, o.shape, -1,
                      lambda: g.comm.Ireduce_scatter_block(send, buf, mop))
    if req is None:
        buf[...] = send[0]
    post = (lambda b: np.divide(b, g.size, out=b)) if op is RedOpType.AVG else None
    return _run(req, what, g, _write_back(out, o, buf, post), async_op, [out])


def reduce(tensor: Tensor, dst: int | None = None, op: RedOpType = RedOpType.SUM,
           group: Any = None, async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """On rank ``dst``: tensor <- op over ranks of tensor; other ranks' tensors are unchanged."""
    g = _group(group, "reduce")
    dst = _root(g, dst if dst is not None else group_dst, "reduce", "dst")
    a = _tensor(tensor, "reduce")._array()
    mop = _mpi_op(g, op, a.dtype, "reduce")
    send = np.ascontiguousarray(a, dtype=_wire(a))
    mine = g.rank == dst
    buf = np.empty_like(send) if mine else None
    req = _collective(g, "reduce", a.dtype, a.shape, dst,
                      lambda: g.comm.Ireduce(send, buf, mop, root=dst))
    if req is None:
        buf[...] = send
    if not mine:
        return _run(req, "reduce", g, None, async_op, [tensor])
    post = (lambda b: np.divide(b, g.size, out=b)) if op is RedOpType.AVG else None
    return _run(req, "reduce", g, _write_back(tensor, a, buf, post), async_op, [tensor])


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None,
           group: Any = None, async_op: bool = False) -> Work | None:
    """On rank ``dst``: gather_list[r] <- tensor of rank r (other ranks pass no list)."""
    g = _group(group, "gather")
    dst = _root(g, dst, "gather", "dst")
    a = _tensor(tensor, "gather")._array()
    mine = g.rank == dst
    outs = _check_list(g, gather_list, a, "gather", "gather_list") if mine else []
    if not mine and gather_list:
        raise ValueError(f"ember.distributed.gather: gather_list must be given on rank {dst} "
                         f"(dst) only, rank {g.rank} passed one")
    send = np.ascontiguousarray(a, dtype=_wire(a))
    recv = np.empty((g.size,) + a.shape, _wire(a)) if mine else None
    req = _collective(g, "gather", a.dtype, a.shape, dst,
                      lambda: g.comm.Igather(send, recv, root=dst))
    if req is None:
        recv[0] = send

    return _run(req, "gather", g, _fill(outs, recv), async_op, outs)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None,
            group: Any = None, async_op: bool = False) -> Work | None:
    """tensor <- scatter_list[my rank] of rank ``src`` (other ranks pass no list)."""
    g = _group(group, "scatter")
    src = _root(g, src, "scatter", "src")
    a = _tensor(tensor, "scatter")._array()
    mine = g.rank == src
    if mine:
        ins = _check_list(g, scatter_list, a, "scatter", "scatter_list")
        send = np.empty((g.size,) + a.shape, _wire(a))
        for r, t in enumerate(ins):
            send[r] = t._data
    elif scatter_list:
        raise ValueError(f"ember.distributed.scatter: scatter_list must be given on rank {src} "
                         f"(src) only, rank {g.rank} passed one")
    else:
        send = None
    buf = _stage(a) if a.dtype != np.float16 else np.empty(a.shape, np.float32)
    req = _collective(g, "scatter", a.dtype, a.shape, src,
                      lambda: g.comm.Iscatter(send, buf, root=src))
    if req is None:
        buf[...] = send[0]
    return _run(req, "scatter", g, _write_back(tensor, a, buf), async_op, [tensor])


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank has reached this call."""
    g = _group(group, "barrier")
    req = _collective(g, "barrier", np.bool_, (), -1, lambda: g.comm.Ibarrier())
    return _run(req, "barrier", g, None, async_op)
