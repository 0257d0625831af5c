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


def _finish_recv(g: _Group, tensor: Tensor, src: Any, tag: int, what: str) -> int:
    a = tensor._array()
    M = g.MPI
    head = np.empty(_META, np.int64)
    status = M.Status()
    wait(g.comm.Irecv(head, M.ANY_SOURCE if src is None else src, 2 * tag), what, g, status)
    source = status.Get_source()
    want = _header("send", a.dtype, a.shape)
    if (head != want).any():
        n = int(head[4])
        dt = np.dtype(_DTYPE_NAMES.get(int(head[1]), "float64"))
        scratch = np.empty(n, np.float32 if dt == np.float16 else dt)
        wait(g.comm.Irecv(scratch, source, 2 * tag + 1), what, g)
        shape = [int(s) for s in head[6:6 + int(head[3])]]
        raise RuntimeError(
            f"ember.distributed.{what}: rank {source} sent a {shape} {dt.name} tensor but rank "
            f"{g.rank} receives into a {list(a.shape)} {a.dtype.name} tensor; pass a tensor of "
            "the sent shape and dtype"
        )
    buf = _stage(a) if a.dtype != np.float16 else np.empty(a.shape, np.float32)
    wait(g.comm.Irecv(buf, source, 2 * tag + 1), what, g)
    if buf is not a:
        a[...] = buf
    tensor._bump()
    return int(source)


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into ``tensor`` from rank ``src`` (any rank if None); returns the sender's rank."""
    g = _group(group, "recv")
    src = src if src is not None else group_src
    if src is not None:
        src = _peer(g, src, "recv", "src")
    return _finish_recv(g, _tensor(tensor, "recv"), src, tag, "recv")


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Work:
    """A receive that completes on ``wait()`` (the data is in ``tensor`` afterwards)."""
    g = _group(group, "irecv")
    src = src if src is not None else group_src
    if src is not None:
        src = _peer(g, src, "irecv", "src")
    t = _tensor(tensor, "irecv")
    return Work(None, "irecv", g, lambda: _finish_recv(g, t, src, tag, "irecv"), [t])
