"""Worker programs for tests/test_distributed.py, run under ``mpirun -n N``.

    mpirun -n 2 python tests/mpi/cases.py CASE

Every rank checks its own results with asserts and prints ``PASS CASE rank R`` at the end; the
pytest side counts those lines and checks the exit status.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import ember  # noqa: E402
import ember.distributed as dist  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
R = dist.ReduceOp


def data(rank: int, dtype: str, shape: tuple = (3, 4)) -> np.ndarray:
    """Rank-dependent values, small enough that products and sums stay exact."""
    rng = np.random.default_rng(100 + rank)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        return rng.uniform(-2, 2, shape).astype(dtype)
    lo = 0 if dtype == "uint8" else -3
    return rng.integers(lo, 4, shape).astype(dtype)


def expect_reduce(op: R, arrs: list, dtype: str) -> np.ndarray:
    st = np.stack(arrs)
    if dtype == "bool":
        if op in (R.SUM, R.MAX, R.BOR):
            return st.any(0)
        if op is R.BXOR:
            return np.logical_xor.reduce(st, 0)
        return st.all(0)
    work = st.astype(np.float32) if dtype == "float16" else st
    out = {R.SUM: lambda: work.sum(0, dtype=work.dtype), R.PRODUCT: lambda: work.prod(0, dtype=work.dtype),
           R.MIN: lambda: work.min(0), R.MAX: lambda: work.max(0),
           R.AVG: lambda: work.sum(0) / len(arrs), R.BAND: lambda: np.bitwise_and.reduce(work, 0),
           R.BOR: lambda: np.bitwise_or.reduce(work, 0),
           R.BXOR: lambda: np.bitwise_xor.reduce(work, 0)}[op]()
    return np.asarray(out).astype(dtype)


def same(got: np.ndarray, want: np.ndarray, dtype: str, what: str) -> None:
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    if dtype.startswith("float"):
        tol = 1e-3 if dtype == "float16" else 1e-6
        assert np.allclose(got, want, rtol=tol, atol=tol), (what, got, want)
    else:
        assert (got == want).all(), (what, got, want)


def case_collectives(r: int, n: int) -> None:
    for dt in DTYPES:
        every = [data(k, dt) for k in range(n)]
        ops = [R.SUM, R.PRODUCT, R.MIN, R.MAX]
        ops += [R.AVG] if dt.startswith("float") else [R.BAND, R.BOR, R.BXOR]
        for op in ops:
            t = ember.from_numpy(data(r, dt).copy())
            buf = t._data
            v = t._version
            dist.all_reduce(t, op)
            same(t.numpy(), expect_reduce(op, every, dt), dt, f"all_reduce {op} {dt}")
            assert t._data is buf, "all_reduce must work in place on the tensor's buffer"
            assert t._version == v + 1
            # reduce to a root: only the root's tensor changes
            t = ember.from_numpy(data(r, dt).copy())
            dist.reduce(t, dst=n - 1, op=op)
            want = expect_reduce(op, every, dt) if r == n - 1 else data(r, dt)
            same(t.numpy(), want, dt, f"reduce {op} {dt}")
            # reduce_scatter: rank k's chunk j is data(k)+j; rank r gets op over k of chunk r
            ins = [ember.from_numpy((data(r, dt) if dt == "bool" else data(r, dt) + j)
                                    .astype(dt)) for j in range(n)]
            out = ember.from_numpy(np.zeros((3, 4), dt))
            dist.reduce_scatter(out, ins, op)
            chunks = [(data(k, dt) if dt == "bool" else data(k, dt) + r).astype(dt)
                      for k in range(n)]
            same(out.numpy(), expect_reduce(op, chunks, dt), dt, f"reduce_scatter {op} {dt}")
            big = ember.from_numpy(np.concatenate([i.numpy() for i in ins]))
            out2 = ember.from_numpy(np.zeros((3, 4), dt))
            dist.reduce_scatter_tensor(out2, big, op)
            same(out2.numpy(), out.numpy(), dt, f"reduce_scatter_tensor {op} {dt}")
        t = ember.from_numpy(data(r, dt).copy())
        dist.broadcast(t, src=n - 1)
        same(t.numpy(), data(n - 1, dt), dt, f"broadcast {dt}")
        outs = [ember.from_numpy(np.zeros((3, 4), dt)) for _ in range(n)]
        dist.all_gather(outs, ember.from_numpy(data(r, dt)))
        for k in range(n):
            same(outs[k].numpy(), data(k, dt), dt, f"all_gather {dt}")
        big = ember.from_numpy(np.zeros((3 * n, 4), dt))
        dist.all_gather_into_tensor(big, ember.from_numpy(data(r, dt)))
        same(big.numpy(), np.concatenate(every), dt, f"all_gather_into_tensor {dt}")
        gl = [ember.from_numpy(np.zeros((3, 4), dt)) for _ in range(n)] if r == 0 else None
        dist.gather(ember.from_numpy(data(r, dt)), gl, dst=0)
        if r == 0:
            for k in range(n):
                same(gl[k].numpy(), data(k, dt), dt, f"gather {dt}")
        t = ember.from_numpy(np.zeros((3, 4), dt))
        sl = [ember.from_numpy(data(k, dt)) for k in range(n)] if r == 0 else None
        dist.scatter(t, sl, src=0)
        same(t.numpy(), data(r, dt), dt, f"scatter {dt}")
        # ring of point-to-point messages
        if n > 1:
            t = ember.from_numpy(np.zeros((3, 4), dt))
            if r % 2 == 0:
                dist.send(ember.from_numpy(data(r, dt)), dst=(r + 1) % n)
                src = dist.recv(t, src=(r - 1) % n)
            else:
                src = dist.recv(t)
                dist.send(ember.from_numpy(data(r, dt)), dst=(r + 1) % n)
            assert src == (r - 1) % n
            same(t.numpy(), data((r - 1) % n, dt), dt, f"send/recv {dt}")
    # non-contiguous and 0-d tensors are reduced in place too
    t = ember.arange(12.0).reshape(3, 4).t()
    dist.all_reduce(t)
    assert np.array_equal(t.numpy(), n * np.arange(12.0).reshape(3, 4).T)
    s = ember.tensor(float(r + 1))
    dist.all_reduce(s, R.MAX)
    assert s.item() == n
    # async: start, then wait
    t = ember.ones(5)
    w = dist.all_reduce(t, async_op=True)
    assert w.wait() is True and w.is_completed()
    assert t.tolist() == [float(n)] * 5
    if n > 1:
        reqs = [dist.isend(ember.full((4,), float(r)), dst=(r + 1) % n)]
        got = ember.zeros(4)
        reqs.append(dist.irecv(got, src=(r - 1) % n))
        for q in reqs:
            q.wait()
        assert got.tolist() == [float((r - 1) % n)] * 4
        # irecv posts its receive at once: irecv, then a blocking send of a large message, then
        # wait, on every rank, must not deadlock
        big = ember.full((300_000,), float(r))
        got = ember.zeros(300_000)
        q = dist.irecv(got, src=(r - 1) % n)
        dist.send(big, dst=(r + 1) % n)
        q.wait()
        assert float(got[7]) == float((r - 1) % n)
        # two receives from the same sender with the same tag, waited for in reverse order (and
        # a blocking recv behind an irecv): the messages arrive in the order they were sent
        a, b, c = ember.zeros(3), ember.zeros(3), ember.zeros(3)
        q1, q2 = dist.irecv(a, src=(r - 1) % n), dist.irecv(b, src=(r - 1) % n)
        for k in (1.0, 2.0, 3.0):
            dist.send(ember.full((3,), k), dst=(r + 1) % n)
        time.sleep(0.05)
        q2.wait()
        dist.recv(c, src=(r - 1) % n)
        q1.wait()
        assert (a.tolist(), b.tolist(), c.tolist()) == ([1.0] * 3, [2.0] * 3, [3.0] * 3)
        # an irecv's is_completed() does not block
        q = dist.irecv(a, src=(r - 1) % n)
        assert not q.is_completed()
        dist.barrier()
        dist.send(ember.full((3,), 4.0), dst=(r + 1) % n)
        q.wait()
        assert q.is_completed() and a.tolist() == [4.0] * 3
        # an async collective returns at once: rank 0 starts it, then sends what rank 1 waits
        # for before joining the collective (blocked for good when the call waited for rank 1)
        t, msg = ember.ones(3), ember.zeros(2)
        if r == 0:
            w = dist.all_reduce(t, async_op=True)
            dist.send(ember.ones(2), dst=1)
            w.wait()
        else:
            if r == 1:
                dist.recv(msg, src=0)
            dist.all_reduce(t)
        assert t.tolist() == [float(n)] * 3
        # async works waited for in reverse order
        b, c = ember.full((2,), float(r)), ember.full((2,), float(r + 1))
        w1, w2 = dist.all_reduce(b, async_op=True), dist.broadcast(c, n - 1, async_op=True)
        w2.wait()
        w1.wait()
        assert b.tolist() == [n * (n - 1) / 2] * 2 and c.tolist() == [float(n)] * 2
    dist.barrier()


def case_errors(r: int, n: int) -> None:
    # mismatched shapes: every rank raises, naming each rank's shape (no hang)
    try:
        dist.all_reduce(ember.zeros(3 + r))
    except RuntimeError as e:
        msg = str(e)
        for k in range(n):
            assert f"rank {k} called all_reduce on a [{3 + k}] float32 tensor" in msg, msg
    else:
        raise AssertionError("mismatched shapes were not detected")
    # mismatched calls
    try:
        if r == 0:
            dist.broadcast(ember.zeros(2), src=0)
        else:
            dist.all_reduce(ember.zeros(2))
    except RuntimeError as e:
        assert "rank 0 called broadcast" in str(e) and "rank 1 called all_reduce" in str(e)
    else:
        raise AssertionError("mismatched collectives were not detected")
    # the same for an async call: its wait() raises, the next collective still works
    w = dist.all_reduce(ember.zeros(2 + r), async_op=True)
    try:
        w.wait()
    except RuntimeError as e:
        assert "rank 1 called all_reduce on a [3] float32 tensor" in str(e), str(e)
        assert w.is_completed() and not w.is_success() and w.exception() is not None
    else:
        raise AssertionError("mismatched async shapes were not detected")
    try:
        dist.barrier() if r == 0 else dist.all_reduce(ember.zeros(2))
    except RuntimeError as e:
        assert "rank 0 called barrier;" in str(e), str(e)
    else:
        raise AssertionError("barrier against all_reduce was not detected")
    # p2p with the wrong receive shape: the receiver raises with both shapes, the sender is fine
    if r == 0:
        dist.send(ember.zeros(2, 3), dst=1)
    elif r == 1:
        try:
            dist.recv(ember.zeros(4), src=0)
        except RuntimeError as e:
            assert "rank 0 sent a [2, 3] float32 tensor" in str(e)
            assert "into a [4] float32 tensor" in str(e)
        else:
            raise AssertionError("recv shape mismatch not detected")
    # a bigger message than the receiving tensor: reported, not a crash or a hang
    if r == 0:
        dist.send(ember.zeros(50_000), dst=1)
    elif r == 1:
        try:
            dist.recv(ember.zeros(10), src=0)
        except RuntimeError as e:
            assert "rank 0 sent a [50000] float32 tensor" in str(e), str(e)
        else:
            raise AssertionError("recv of a bigger message not detected")
    t = ember.arange(3)
    for bad, exc, text in (
        (lambda: dist.all_reduce(t, dist.ReduceOp.AVG), ValueError, "needs a floating-point"),
        (lambda: dist.all_reduce([1, 2]), TypeError, "must be an ember Tensor"),
        (lambda: dist.all_gather([ember.zeros(3)], ember.zeros(3)), ValueError,
         f"list of {n} tensors"),
        (lambda: dist.broadcast(ember.zeros(3), src=n), ValueError, "is not a rank"),
        (lambda: dist.init_process_group("mpi"), ValueError, "twice"),
    ):
        try:
            bad()
        except exc as e:
            assert text in str(e), str(e)
        else:
            raise AssertionError(text)
    # nothing was left half-done: a correct collective still works
    t = ember.ones(2)
    dist.all_reduce(t)
    assert t.tolist() == [float(n)] * 2


def mlp(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def cnn(seed: int) -> nn.Module:
    ember.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


def case_ddp_equivalence(r: int, n: int) -> None:
    """N steps of DDP == single-process training on the concatenated batch (float64, 1e-6)."""
    ember.set_default_dtype(ember.float64)
    rng = np.random.default_rng(7)
    for make, xshape, loss_fn in ((mlp, (12,), "mse"), (cnn, (1, 8, 8), "ce")):
        for opt_name in ("sgd", "adam"):
            for cap in (None, 0.002):  # one bucket / many small buckets
                per = 4
                X = ember.tensor(rng.normal(size=(10, per * n) + xshape))
                Y = (ember.tensor(rng.normal(size=(10, per * n, 3))) if loss_fn == "mse"
                     else ember.tensor(rng.integers(0, 5, (10, per * n))))
                ref = make(1)
                ddp = DDP(make(100 + r), bucket_cap_mb=cap)  # different start: rank 0's wins

                def opt_for(m: nn.Module) -> ember.optim.Optimizer:
                    if opt_name == "sgd":
                        return ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
                    return ember.optim.Adam(m.parameters(), lr=0.01)
                o_ref, o_ddp = opt_for(ref), opt_for(ddp)
                # the reference starts from rank 0's weights, which DDP broadcast to every rank
                ref.load_state_dict({k[len("module."):]: v
                                     for k, v in ddp.state_dict().items()})
                for step in range(10):
                    def loss(m: nn.Module, x: ember.Tensor, y: ember.Tensor) -> ember.Tensor:
                        out = m(x)
                        if loss_fn == "mse":
                            return ((out - y) ** 2).mean()
                        return nn.functional.cross_entropy(out, y)
                    o_ref.zero_grad()
                    loss(ref, X[step], Y[step]).backward()
                    o_ref.step()
                    o_ddp.zero_grad()
                    sl = slice(r * per, (r + 1) * per)
                    loss(ddp, X[step][sl], Y[step][sl]).backward()
                    o_ddp.step()
                for (name, a), b in zip(ref.named_parameters(), ddp.module.parameters(),
                                        strict=True):
                    err = float((a - b).abs().max())
                    assert err < 1e-6, (make.__name__, opt_name, cap, name, err)
                if cap is not None:
                    assert len(ddp._buckets) > 1


def case_ddp_features(r: int, n: int) -> None:
    ember.set_default_dtype(ember.float64)
    rng = np.random.default_rng(3)
    X = ember.tensor(rng.normal(size=(3, 2 * n, 12)))
    # no_sync: two accumulation steps without communication, the third syncs
    ref, ddp = mlp(1), DDP(mlp(1))
    for k in range(3):
        sl = slice(2 * r, 2 * r + 2)
        ref(X[k]).pow(2).mean().div(3).backward()
        if k < 2:
            with ddp.no_sync():
                ddp(X[k][sl]).pow(2).mean().div(3).backward()
            if n > 1:  # local gradients only: they differ from the reference
                assert float((ddp.module[0].weight.grad - ref[0].weight.grad).abs().max()) > 1e-8
        else:
            ddp(X[k][sl]).pow(2).mean().div(3).backward()
    for a, b in zip(ref.parameters(), ddp.module.parameters(), strict=True):
        assert float((a.grad - b.grad).abs().max()) < 1e-10
    # state_dict keys and .module like torch
    assert list(ddp.state_dict())[0] == "module.0.weight"
    assert ddp.module is not None and isinstance(ddp.module, nn.Sequential)

    # find_unused_parameters: head b is used on rank 0 only
    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 2)
            self.c = nn.Linear(4, 2)  # never used anywhere

        def forward(self, x: ember.Tensor, use_b: bool) -> ember.Tensor:
            return self.a(x) + (self.b(x) if use_b else 0)
    ember.manual_seed(0)
    two = DDP(Two(), find_unused_parameters=True)
    x = ember.ones(3, 4) * (r + 1)
    two(x, r == 0).sum().backward()
    # a: average of both ranks; b: rank 0's gradient / n everywhere; c: untouched (None)
    gb = np.tile(np.array([[3.0, 3.0, 3.0, 3.0]]), (2, 1)) / n
    assert np.allclose(two.module.b.weight.grad.numpy(), gb), two.module.b.weight.grad
    want_a = sum(3.0 * (k + 1) for k in range(n)) / n
    assert np.allclose(two.module.a.weight.grad.numpy(), want_a)
    assert two.module.c.weight.grad is None
    # a parameter used in a no_sync step only counts as used at the next sync (torch's
    # local_used_map): its accumulated gradient is averaged, not left to differ across ranks
    with two.no_sync():
        two(x, True).sum().backward()
    two(x, False).sum().backward()
    want_b = sum(3.0 * (k + 1) for k in range(n)) / n + 3.0 / n
    assert np.allclose(two.module.b.weight.grad.numpy(), want_b), two.module.b.weight.grad
    # a float16 parameter that only rank 0 uses gets a float16 gradient everywhere

    class Half(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.h = nn.Linear(4, 2).half()

        def forward(self, x: ember.Tensor, use_h: bool) -> ember.Tensor:
            return self.a(x) + (self.h(x.half()).to(x.dtype) if use_h else 0)
    half = DDP(Half(), find_unused_parameters=True)
    half(ember.ones(2, 4), r == 0).sum().backward()
    assert half.module.h.weight.grad.dtype == ember.float16
    assert np.allclose(half.module.h.bias.grad.numpy(), 2.0 / n)
    # a forward under no_grad between a forward and its backward leaves the reduction pending
    ember.manual_seed(0)
    lin = DDP(nn.Linear(4, 1))
    out = lin(x)
    with ember.no_grad():
        lin(x)
    out.sum().backward()
    assert np.allclose(lin.module.weight.grad.numpy(), want_a)
    # without find_unused_parameters the next forward reports the unfinished reduction
    ember.manual_seed(0)
    strict = DDP(Two())
    strict(x, True).sum().backward()
    try:
        strict(x, True)
    except RuntimeError as e:
        assert "Expected to have finished reduction in the prior iteration" in str(e)
        assert "find_unused_parameters=True" in str(e) and "c.weight" in str(e)
    else:
        raise AssertionError("unfinished reduction not reported")
    # models that differ across ranks are refused, naming the parameter and both shapes
    try:
        DDP(nn.Linear(4, 3 + (r > 0)))
    except RuntimeError as e:
        assert "DDP expects same model across all ranks" in str(e), str(e)
        assert "'weight' is [3, 4] float64 on rank 0 but 'weight' is [4, 4] float64" in str(e)
    else:
        if n > 1:
            raise AssertionError("different models were accepted")
    # so are models whose buffers or frozen parameters differ (rank 0's are broadcast too)
    frozen = nn.Linear(4, 3 + (r > 0))
    frozen.requires_grad_(False)
    stats = nn.BatchNorm1d(4 + (r > 0), affine=False)
    for model, text in ((nn.Sequential(nn.Linear(4, 4), stats), "buffer"),
                        (nn.Sequential(nn.Linear(4, 4), frozen), "frozen parameter")):
        try:
            DDP(model)
        except RuntimeError as e:
            assert f"First difference: {text} '1." in str(e) and "on rank 1" in str(e), str(e)
        else:
            if n > 1:
                raise AssertionError(f"models with different {text}s were accepted")
    # buffers are broadcast from rank 0 at each forward
    bn = DDP(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)))
    bn.module[1].running_mean.fill_(float(r))
    bn(ember.ones(2, 4))
    rm = bn.module[1].running_mean.clone()
    every = [ember.zeros(4) for _ in range(n)]
    dist.all_gather(every, rm)
    assert all(np.array_equal(e.numpy(), every[0].numpy()) for e in every)


def case_sampler(r: int, n: int) -> None:
    from ember.utils.data import DataLoader, TensorDataset
    from ember.utils.data.distributed import DistributedSampler
    ds = TensorDataset(ember.arange(11))
    s = DistributedSampler(ds, seed=5)
    s.set_epoch(2)
    mine = [int(i) for (b,) in DataLoader(ds, batch_size=2, sampler=s) for i in b]
    every = [ember.zeros(len(mine), dtype=ember.int64) for _ in range(n)]
    dist.all_gather(every, ember.tensor(mine))
    allidx = sorted(i for e in every for i in e.tolist())
    assert set(allidx) == set(range(11)) and len(allidx) == len(s) * n


def case_die(r: int, n: int) -> None:
    """Rank 1 raises; rank 0 waits in a collective: the job must end, not hang."""
    if r == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.all_reduce(ember.ones(3))


def case_exit(r: int, n: int) -> None:
    """Rank 1 vanishes without a word (os._exit)."""
    if r == 1:
        os._exit(3)
    dist.all_reduce(ember.ones(3))


def case_hang(r: int, n: int) -> None:
    """Rank 1 skips the collective and sleeps: rank 0 times out with a clear error."""
    if r == 1:
        time.sleep(60)
        return
    dist.all_reduce(ember.ones(3))


def main() -> None:
    name = sys.argv[1]
    timeout = float(os.environ.get("EMBER_TEST_TIMEOUT", "60"))
    dist.init_process_group("mpi", timeout=timeout)
    r, n = dist.get_rank(), dist.get_world_size()
    globals()[f"case_{name}"](r, n)
    dist.barrier()
    print(f"PASS {name} rank {r}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
