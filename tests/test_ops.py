"""The op table (tests/op_db) run three ways per op and sample.

1. forward vs torch: same lambda on both libraries, same values, dtype, shape and node name;
2. gradients vs torch: backward with the same random output gradient;
3. float64 finite differences on ember alone (no torch needed): the analytical vector-Jacobian
   product against central differences of <f(x), v>.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.op_db import OpInfo, all_ops

try:
    import torch
except ImportError:  # pragma: no cover - exercised when torch is absent
    torch = None

NEEDS_TORCH = pytest.mark.skipif(torch is None, reason="torch not installed: comparison skipped")
OPS = all_ops()


def _samples(op: OpInfo, dtype: type) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(abs(hash(op.name)) % 2**32)
    if op.make is not None:
        return [[np.asarray(a) for a in s] for s in op.make(rng)]
    lo, hi = op.domain
    out = []
    for shapes in op.samples:
        if op.integer:
            out.append([rng.integers(-3, 4, size=s).astype(np.int64) for s in shapes])
        else:
            out.append([rng.uniform(lo, hi, size=s).astype(dtype) for s in shapes])
    return out


def _flat(res: object) -> list:
    if isinstance(res, (tuple, list)):
        out = []
        for r in res:
            out.extend(_flat(r))
        return out
    return [res]


def _wants_grad(op: OpInfo, i: int, a: np.ndarray) -> bool:
    if a.dtype.kind != "f" or op.integer:
        return False
    return op.requires_grad is None or op.requires_grad[i]


def _lib_inputs(lib: object, arrays: list[np.ndarray], op: OpInfo, grad: bool) -> list:
    ts = []
    for i, a in enumerate(arrays):
        t = lib.tensor(a.copy())
        if grad and _wants_grad(op, i, a):
            t.requires_grad_(True)
        ts.append(t)
    return ts


def _np(t: object) -> np.ndarray:
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.detach()._data if isinstance(t, ember.Tensor) else t)


def _ids(ops: list[OpInfo]) -> list[str]:
    return [o.name for o in ops]


@NEEDS_TORCH
@pytest.mark.parametrize("op", OPS, ids=_ids(OPS))
def test_forward_matches_torch(op: OpInfo) -> None:
    if op.skip_reason:
        pytest.skip(op.skip_reason)
    for arrays in _samples(op, np.float32):
        e_in = _lib_inputs(ember, arrays, op, grad=op.grad)
        t_in = _lib_inputs(torch, arrays, op, grad=op.grad)
        e_out, t_out = _flat(op.fn(ember, *e_in)), _flat(op.fn(torch, *t_in))
        assert len(e_out) == len(t_out)
        for e, t in zip(e_out, t_out, strict=True):
            if not isinstance(t, torch.Tensor):
                assert e == t
                continue
            assert isinstance(e, ember.Tensor), f"{op.name}: expected a Tensor, got {type(e)}"
            assert tuple(e.shape) == tuple(t.shape), f"{op.name}: shape"
            assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], f"{op.name}: dtype"
            np.testing.assert_allclose(_np(e), _np(t), rtol=op.rtol, atol=op.atol,
                                       err_msg=op.name)
            assert e.requires_grad == t.requires_grad, f"{op.name}: requires_grad"
        if op.node is not None and op.grad:
            got = e_out[0].grad_fn.name() if e_out[0].grad_fn is not None else None
            want = t_out[0].grad_fn.name() if t_out[0].grad_fn is not None else None
            assert want == op.node, f"{op.name}: table says {op.node}, torch says {want}"
            assert got == want, f"{op.name}: node {got} != torch's {want}"


def _seed_grads(outs: list, lib: object, rng: np.random.Generator) -> tuple[list, list]:
    roots, grads = [], []
    for o in outs:
        if isinstance(o, (ember.Tensor,)) or (torch is not None and isinstance(o, torch.Tensor)):
            if o.requires_grad:
                roots.append(o)
                g = rng.uniform(-1, 1, size=tuple(o.shape)).astype(_np(o).dtype)
                grads.append(lib.tensor(g))
    return roots, grads


@NEEDS_TORCH
@pytest.mark.parametrize("op", [o for o in OPS if o.grad], ids=_ids([o for o in OPS if o.grad]))
def test_grad_matches_torch(op: OpInfo) -> None:
    if op.skip_reason:
        pytest.skip(op.skip_reason)
    for k, arrays in enumerate(_samples(op, np.float32)):
        e_in = _lib_inputs(ember, arrays, op, grad=True)
        t_in = _lib_inputs(torch, arrays, op, grad=True)
        e_roots, e_g = _seed_grads(_flat(op.fn(ember, *e_in)), ember, np.random.default_rng(k))
        t_roots, t_g = _seed_grads(_flat(op.fn(torch, *t_in)), torch, np.random.default_rng(k))
        assert len(e_roots) == len(t_roots)
        if not t_roots:
            continue
        ember.autograd.backward(e_roots, e_g)
        torch.autograd.backward(t_roots, t_g)
        for i, (e, t) in enumerate(zip(e_in, t_in, strict=True)):
            if not t.requires_grad:
                continue
            if t.grad is None:
                assert e.grad is None or not np.any(_np(e.grad)), f"{op.name}: input {i}"
                continue
            assert e.grad is not None, f"{op.name}: input {i} got no gradient"
            assert e.grad.dtype == e.dtype
            np.testing.assert_allclose(_np(e.grad), _np(t.grad), rtol=op.rtol * 10,
                                       atol=op.atol * 10, err_msg=f"{op.name} input {i}")


@pytest.mark.parametrize("op", [o for o in OPS if o.gradcheck and o.grad and not o.integer],
                         ids=_ids([o for o in OPS if o.gradcheck and o.grad and not o.integer]))
def test_gradcheck_float64(op: OpInfo) -> None:
    """Analytical vector-Jacobian products vs central differences, float64, no torch."""
    if op.skip_reason:
        pytest.skip(op.skip_reason)
    eps = 1e-6
    for k, arrays in enumerate(_samples(op, np.float64)):
        arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
        e_in = _lib_inputs(ember, arrays, op, grad=True)
        outs = [o for o in _flat(op.fn(ember, *e_in))
                if isinstance(o, ember.Tensor) and o.requires_grad]
        if not outs:
            continue
        rng = np.random.default_rng(k)
        vs = [rng.uniform(-1, 1, size=tuple(o.shape)) for o in outs]
        ember.autograd.backward(outs, [ember.tensor(v) for v in vs])

        def f(xs: list[np.ndarray]) -> float:
            ts = [ember.tensor(x) for x in xs]
            with ember.no_grad():
                res = [o for o in _flat(op.fn(ember, *ts)) if isinstance(o, ember.Tensor)]
            res = [r for r in res if r.dtype.is_floating_point]
            return float(sum(np.sum(_np(r) * v) for r, v in zip(res, vs, strict=False)))

        for i, t in enumerate(e_in):
            if not t.requires_grad:
                continue
            num = np.zeros_like(arrays[i])
            flat = num.reshape(-1)
            for j in range(arrays[i].size):
                xp = [a.copy() for a in arrays]
                xm = [a.copy() for a in arrays]
                xp[i].reshape(-1)[j] += eps
                xm[i].reshape(-1)[j] -= eps
                flat[j] = (f(xp) - f(xm)) / (2 * eps)
            ana = np.zeros_like(arrays[i]) if t.grad is None else _np(t.grad)
            np.testing.assert_allclose(ana, num, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{op.name}: input {i}, sample {k}")
