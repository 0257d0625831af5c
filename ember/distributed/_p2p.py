"""Point-to-point messages: send/recv (blocking) and isend/irecv (returning a Work).

A message is a small header (dtype, shape) followed by the tensor's buffer.  The receiver checks
the header against its own tensor: a mismatch still drains the payload (so the sender never
blocks) and then raises with both shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._collectives import _DTYPE_NAMES, _META, Work, _group, _header, _stage, _tensor, _wire
from ._group import _Group, wait


def _peer(g: _Group, r: Any, what: str, name: str) -> int:
    if r is None:
        raise ValueError(f"ember.distributed.{what}: {name} is required")
    r = int(r)
    if not 0 <= r < g.size or r == g.rank:
        raise ValueError(
            f"ember.distributed.{what}: {name}={r} must be another rank of this group "
            f"(0..{g.size - 1}, not {g.rank})"
        )
    return r


def _start_send(tensor: Tensor, dst: Any, group: Any, tag: int, what: str) -> Work:
    g = _group(group, what)
    dst = _peer(g, dst, what, "dst")
    a = _tensor(tensor, what)._array()
    head = _header("send", a.dtype, a.shape)
    body = np.ascontiguousarray(a, dtype=_wire(a))
    r1 = g.comm.Isend(head, dst, 2 * tag)
    r2 = g.comm.Isend(body, dst, 2 * tag + 1)
    req = g.MPI.Request  # Waitall over both, polled with the group's timeout

    class _Both:
        def Test(self, status: Any = None) -> bool:  # noqa: N802 - as MPI.Request
            return bool(req.Testall([r1, r2]))
    keep = (head, body)  # the buffers must live until the sends complete
    return Work(_Both(), what, g, lambda: keep and None, [tensor])


def send(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` (returns once the data has left this buffer)."""
    _start_send(tensor, dst if dst is not None else group_dst, group, tag, "send").wait()


def isend(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
          group_dst: int | None = None) -> Work:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` on the result before changing it."""
    return _start_send(tensor, dst if dst is not None else group_dst, group, tag, "isend")


class _PendingRecv:
    """A posted receive: the header now, the payload as soon as the header has said its size.

    Every :func:`wait` of the group advances the pending receives, so a rank blocked in its own
    send still lets a peer's large message in (no deadlock for irecv; send; wait on every rank),
    and the payload receive always has exactly the sent size (a smaller receive buffer would
    make MPI truncate, which some Open MPI transports do not survive).
    """

    def __init__(self, g: _Group, tensor: Tensor, src: Any, tag: int, what: str) -> None:
        a = tensor._array()
        self.g, self.t, self.a, self.tag, self.what = g, tensor, a, tag, what
        self.src = src
        self.head = np.empty(_META, np.int64)
        self.status = g.MPI.Status()
        self.r_head = g.comm.Irecv(self.head, g.MPI.ANY_SOURCE if src is None else src, 2 * tag)
        self.r_body: Any = None
        self.buf: Any = None
        self.source = -1
        g.pending.append(self)

    def Test(self, status: Any = None) -> bool:  # noqa: N802 - polled by wait() like a request
        if self.r_body is None:
            if self.source < 0:
                if not self.r_head.Test(self.status):
                    return False
                self.source = self.status.Get_source()
            if self._behind():
                return False
            a = self.a
            if (self.head == _header("send", a.dtype, a.shape)).all():
                self.buf = _stage(a) if a.dtype != np.float16 else np.empty(a.shape, np.float32)
            else:  # receive what was sent, then report
                dt = np.dtype(_DTYPE_NAMES.get(int(self.head[1]), "float64"))
                self.buf = np.empty(int(self.head[4]), np.float32 if dt == np.float16 else dt)
            self.r_body = self.g.comm.Irecv(self.buf, self.source, 2 * self.tag + 1)
        if not self.r_body.Test():
            return False
        if self in self.g.pending:
            self.g.pending.remove(self)
        return True

    def _behind(self) -> bool:
        """Whether an earlier receive that may hold an earlier message of the same sender and
        tag has not posted its payload receive yet.

        Payloads are matched in the order their receives are posted, so they must be posted in
        the order the headers were (MPI matched those in posting order): else waiting on a later
        ``irecv`` first would take the payload of the earlier message.
        """
        for p in tuple(self.g.pending):
            if p is self:
                return False
            if (p.r_body is None and p.tag == self.tag
                    and (p.src is None or p.src == self.source)):
                p.Test()  # posts its payload receive if its header has come
                if p.r_body is None:
                    return True
        return False

    def finish(self) -> int:
        wait(self, self.what, self.g)
        a, head = self.a, self.head
        if self.buf.shape != a.shape:
            dt = np.dtype(_DTYPE_NAMES.get(int(head[1]), "float64"))
            shape = [int(x) for x in head[6:6 + int(head[3])]]
            raise RuntimeError(
                f"ember.distributed.{self.what}: rank {self.source} sent a {shape} {dt.name} "
                f"tensor but rank {self.g.rank} receives into a {list(a.shape)} {a.dtype.name} "
                "tensor; pass a tensor of the sent shape and dtype"
            )
        if self.buf is not a:
            a[...] = self.buf
        self.t._bump()
        return int(self.source)


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank if None); returns the sender's rank."""
    g = _group(group, "recv")
    src = src if src is not None else group_src
    if src is not None:
        src = _peer(g, src, "recv", "src")
    return _PendingRecv(g, _tensor(tensor, "recv"), src, tag, "recv").finish()


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Work:
    """A receive that completes on ``wait()`` (the data is in ``tensor`` afterwards)."""
    g = _group(group, "irecv")
    src = src if src is not None else group_src
    if src is not None:
        src = _peer(g, src, "irecv", "src")
    t = _tensor(tensor, "irecv")
    pr = _PendingRecv(g, t, src, tag, "irecv")
    return Work(pr, "irecv", g, pr.finish, [t])  # is_completed() tests without blocking
