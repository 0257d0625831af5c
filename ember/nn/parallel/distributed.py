"""DistributedDataParallel: one model replica per MPI rank, gradients averaged during backward.

At construction the ranks check they hold the same model (names, shapes, dtypes), then rank 0's
parameters and buffers are broadcast to all.  Parameters are grouped, in reverse registration
order (roughly the order backward produces their gradients), into buckets of one dtype: the
first holds about 1 MB, the others ``bucket_cap_mb``.  A post-accumulate-grad hook on every
parameter counts the bucket down; when a bucket is complete its gradients are copied into the
bucket's flat buffer and a non-blocking MPI all-reduce starts at once, while backward goes on
computing earlier layers.  Buckets start in index order on every rank (MPI needs the same order
everywhere).  As in torch, after the first synchronised backward the buckets are rebuilt in the
order the gradients actually became ready (rank 0's order, broadcast), so that no bucket waits
for a gradient that comes late (e.g. a first layer's bias grouped with the last layer).
When the last bucket has started, the reductions are waited for and every
``.grad`` becomes grad_avg = (1/world) sum over ranks of grad_rank.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from ... import distributed as dist
from ..._tensor import Tensor, _new
from ...autograd.grad_mode import is_grad_enabled
from ...distributed._group import wait
from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's first bucket is small so reduction starts early

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This "
    "error indicates that your module has parameters that were not used in producing loss. You "
    "can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `ember.nn.parallel.DistributedDataParallel`, and by making "
    "sure all `forward` function outputs participate in calculating loss."
)


class _Bucket:
    """Parameters reduced together through one flat buffer."""

    __slots__ = ("idx", "offsets", "buf", "req")

    def __init__(self, idx: list[int], params: list[Tensor]) -> None:
        self.idx = idx
        sizes = [params[i]._data.size for i in idx]
        self.offsets = np.concatenate(([0], np.cumsum(sizes))).astype(int).tolist()
        dt = params[idx[0]]._data.dtype
        self.buf = np.empty(self.offsets[-1], np.float32 if dt == np.float16 else dt)
        self.req: Any = None


class DistributedDataParallel(Module):
    """Data parallelism over MPI ranks: same model everywhere, gradients averaged in backward."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        super().__init__()
        g = dist.world()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2**20)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        self._g = g
        self._comm = g.dup()
        self._names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._verify_same_model()
        self._sync_states(list(module.parameters()) + list(module.buffers()))
        self._set_buckets(list(reversed(range(len(self._params)))))
        self._order: list[int] | None = []  # readiness order, recorded once then rebuilt
        # parameters that got a gradient here since the last synchronised backward (no_sync
        # steps included, as torch's local_used_map): the others keep their .grad untouched
        self._used = [0] * len(self._params)
        # where the reduction's time goes (seconds summed over synchronised steps): copying
        # gradients into buckets and starting them (during backward), waiting after the last
        # gradient (the communication backward did not hide), averaging back into .grad
        self.comm_stats = {"steps": 0, "launch_s": 0.0, "exposed_wait_s": 0.0, "unpack_s": 0.0}
        self._reset()
        self._expect = False
        me = weakref.ref(self)
        self._handles = [p.register_post_accumulate_grad_hook(_hook(me, i))
                         for i, p in enumerate(self._params)]

    # ------------------------------------------------------------------ construction
    def _verify_same_model(self) -> None:
        """Every rank must hold parameters with the same names, shapes and dtypes; so must the
        frozen parameters and the buffers, which are broadcast from rank 0 too."""
        g = self._g
        if g.size == 1:
            return
        mine = [(n, tuple(p._data.shape), p._data.dtype.name)
                for n, p in zip(self._names, self._params, strict=True)]
        m = self.module
        rest = [(n, tuple(p._data.shape), p._data.dtype.name, "frozen parameter")
                for n, p in m.named_parameters() if not p.requires_grad]
        rest += [(n, tuple(b._data.shape), b._data.dtype.name, "buffer")
                 for n, b in m.named_buffers()]
        every = self._comm.allgather((mine, rest))
        for r, (theirs, their_rest) in enumerate(every):
            if theirs != every[0][0]:
                ref = every[0][0]
                if len(theirs) != len(ref):
                    head = (f"DDP expects same model across all ranks, but Rank {r} has "
                            f"{len(theirs)} params, while rank 0 has inconsistent {len(ref)} "
                            "params.")
                else:
                    head = "DDP expects same model across all ranks."
            elif their_rest != every[0][1]:
                ref, theirs = every[0][1], their_rest
                head = ("DDP expects same model across all ranks: the frozen parameters and "
                        "buffers, broadcast from rank 0, differ.")
            else:
                continue
            for a, b in zip(ref, theirs, strict=False):
                if a != b:
                    what = a[3] if len(a) > 3 else "parameter"
                    head += (f" First difference: {what} '{a[0]}' is {list(a[1])} {a[2]} on "
                             f"rank 0 but '{b[0]}' is {list(b[1])} {b[2]} on rank {r}.")
                    break
            else:
                head += f" Rank {r} has {len(theirs)} of them, rank 0 {len(ref)}."
            raise RuntimeError(
                head + " Build the same model on every rank (only the values may differ: rank "
                "0's are broadcast to the others)."
            )

    def _sync_states(self, tensors: list[Tensor]) -> None:
        """Broadcast rank 0's values (one flat message per dtype)."""
        g = self._g
        if g.size == 1 or not tensors:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dtype, ts in by_dtype.items():
            wire = np.float32 if dtype == np.float16 else dtype
            flat = np.concatenate([np.asarray(t._data, wire).reshape(-1) for t in ts])
            wait(self._comm.Ibcast(flat, root=0), "DistributedDataParallel broadcast", g)
            off = 0
            for t in ts:
                a = t._array()
                a[...] = flat[off:off + a.size].reshape(a.shape)
                off += a.size

    def _set_buckets(self, order: list[int]) -> None:
        """Fill buckets with the parameters in ``order`` (first bucket ~1 MB, then the cap)."""
        buckets: list[_Bucket] = []
        cur: list[int] = []
        size = 0
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in order:
            d = self._params[i]._data
            if cur and (size + d.nbytes > cap or d.dtype != self._params[cur[0]]._data.dtype):
                buckets.append(_Bucket(cur, self._params))
                cur, size, cap = [], 0, self.bucket_bytes_cap
            cur.append(i)
            size += d.nbytes
        buckets.append(_Bucket(cur, self._params))
        self._buckets = buckets
        self._bucket_of = [0] * len(self._params)
        for b, bk in enumerate(buckets):
            for i in bk.idx:
                self._bucket_of[i] = b

    def _rebuild_buckets(self) -> None:
        """Re-bucket in the recorded readiness order (rank 0's, so every rank agrees)."""
        seen = set(self._order or ())
        order = np.array(list(self._order or ()) + [i for i in reversed(range(len(self._params)))
                                                     if i not in seen], np.int64)
        self._order = None
        if self._g.size > 1:
            wait(self._comm.Ibcast(order, root=0), "DistributedDataParallel", self._g)
        self._set_buckets(order.tolist())

    # ------------------------------------------------------------------ per iteration
    def _reset(self) -> None:
        self._ready = [False] * len(self._params)
        self._left = [len(b.idx) for b in self._buckets]
        self._next = 0
        self._any_ready = False

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Run the wrapped module; prepare the gradient reduction of the coming backward.

        As in torch, a forward without grad mode (evaluation under ``no_grad``) or inside
        :meth:`no_sync` leaves the reduction state alone: a backward still pending from an
        earlier forward is synchronised as usual.
        """
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if is_grad_enabled() and self._expect and self._any_ready:
            missing = [i for i, r in enumerate(self._ready) if not r]
            names = ", ".join(f"{i} ({self._names[i]})" for i in missing)
            raise RuntimeError(
                f"{_UNFINISHED}\nParameter indices which did not receive grad for rank "
                f"{self._g.rank}: {names}"
            )
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._sync_states([b for b in self.module.buffers()])
        out = self.module(*inputs, **kwargs)
        self.require_forward_param_sync = sync  # torch: buffers are next sent after a sync step
        if not sync:
            return out
        self._reset()
        self._expect = self._g.size > 1  # one rank: the average is the gradient itself
        if self._expect and self.find_unused_parameters:
            used = _reachable_leaves(out)
            for i, p in enumerate(self._params):
                if p._edge is None or p._edge[0] not in used:
                    self._mark_ready(i, used=False)
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside only accumulate local gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _mark_ready(self, i: int, used: bool = True) -> None:
        if self._ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter {i} ({self._names[i]}) "
                "received its gradient twice in one backward pass of DistributedDataParallel "
                "(e.g. two backward calls per forward, or a parameter shared between module "
                "copies); call backward once per forward."
            )
        self._ready[i] = True
        self._any_ready = True
        if self._order is not None:
            self._order.append(i)
        if used:
            self._used[i] = 1
        b = self._bucket_of[i]
        self._left[b] -= 1
        if self._left[b] == 0:
            while self._next < len(self._buckets) and self._left[self._next] == 0:
                self._launch(self._buckets[self._next])
                self._next += 1
            if self._next == len(self._buckets):
                self._finish()
        elif self._next:
            self._g.MPI.Request.Testall([b.req for b in self._buckets[:self._next]])

    def _launch(self, bk: _Bucket) -> None:
        t0 = time.perf_counter()
        buf, off = bk.buf, bk.offsets
        for k, i in enumerate(bk.idx):
            gr = self._params[i]._grad
            if gr is None:
                buf[off[k]:off[k + 1]] = 0
            else:
                buf[off[k]:off[k + 1]] = gr._data.reshape(-1)
        if self._g.size == 1:
            bk.req = None
        else:
            bk.req = self._comm.Iallreduce(self._g.MPI.IN_PLACE, buf, self._g.MPI.SUM)
        self.comm_stats["launch_s"] += time.perf_counter() - t0

    def _finish(self) -> None:
        g = self._g
        used = None
        if self.find_unused_parameters and g.size > 1:
            used = np.asarray(self._used, np.int32)
            wait(self._comm.Iallreduce(g.MPI.IN_PLACE, used, g.MPI.MAX),
                 "DistributedDataParallel", g)
        elif self.find_unused_parameters:
            used = np.asarray(self._used, np.int32)
        self._used = [0] * len(self._params)
        scale = 1.0 / g.size
        t0 = time.perf_counter()
        for bk in self._buckets:
            if bk.req is not None:
                wait(bk.req, "DistributedDataParallel all_reduce", g)
                bk.req = None
        st = self.comm_stats
        st["steps"] += 1
        st["exposed_wait_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        for bk in self._buckets:
            off = bk.offsets
            for k, i in enumerate(bk.idx):
                if used is not None and not used[i]:
                    continue
                p = self._params[i]
                src = bk.buf[off[k]:off[k + 1]].reshape(p._data.shape)
                gr = p._grad
                a = None if gr is None else gr._data
                if (isinstance(a, np.ndarray) and a.flags.writeable and a.shape == src.shape
                        and a.dtype == src.dtype):
                    np.multiply(src, scale, out=a)  # grad_avg = sum / world, in place
                elif gr is None:  # unused here, used elsewhere
                    p._grad = _new((src * scale).astype(p._data.dtype, copy=False), None)
                else:
                    gr._data = (src * scale).astype(p._data.dtype, copy=False)
        st["unpack_s"] += time.perf_counter() - t0
        self._expect = False
        if self._order is not None:
            self._rebuild_buckets()


def _hook(me: Any, i: int) -> Any:
    def on_grad(p: Tensor) -> None:
        ddp = me()
        if ddp is None:
            return
        if ddp._expect:
            ddp._mark_ready(i)
        else:  # a no_sync (or repeated) backward: remember the use for the next sync
            ddp._used[i] = 1
    return on_grad


def _reachable_leaves(out: Any) -> set:
    """The AccumulateGrad nodes reachable from the tensors in ``out`` (iteratively)."""
    stack: list = []
    todo = [out]
    while todo:
        o = todo.pop()
        if isinstance(o, Tensor):
            if o._edge is not None:
                stack.append(o._edge[0])
        elif isinstance(o, (list, tuple)):
            todo.extend(o)
        elif isinstance(o, dict):
            todo.extend(o.values())
    seen: set = set()
    while stack:
        n = stack.pop()
        if n is None or n in seen:
            continue
        seen.add(n)
        for e in n._next:
            if e is not None:
                stack.append(e[0])
    return seen
