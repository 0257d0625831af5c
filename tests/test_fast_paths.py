"""The per-op fast paths give exactly what the general paths (and torch) give.

ops/arith.py computes ``tensor op number`` with a cached 0-d array of the tensor's dtype (same
bits as NumPy's weak python scalar, when the number converts exactly) and 0-d ``tensor op tensor``
with NumPy scalars; ``Tensor.backward`` seeds 0-d outputs with a NumPy scalar; a saved output gets
its version counter only when one is needed.  These tests pin results bit for bit against the
plain NumPy computation and torch's behaviour around them.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd.graph import WEAK, unweak, weak


def _bits(t: ember.Tensor) -> bytes:
    return np.ascontiguousarray(np.asarray(t.detach())).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("num", [2, 3, 0.5, -2.5, 0.1, 1e-3, 16777217, 0.0, -0.0, 1e39])
def test_tensor_op_number_is_numpys_weak_scalar_math(dtype: type, num: float) -> None:
    a = (np.random.default_rng(0).standard_normal(17) * 3).astype(dtype)
    t = ember.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        for got, want in ((t * num, a * num), (t + num, a + num), (t - num, a - num),
                          (t / num, a / num)):
            assert got.dtype == ember.tensor(want).dtype
            assert _bits(got) == np.ascontiguousarray(want).tobytes()


def test_weak_caches_only_exact_nonzero_numbers() -> None:
    f32 = np.dtype(np.float32)
    z = weak(2, f32)
    assert type(z) is np.ndarray and z.shape == () and not z.flags.writeable
    assert weak(2.0, f32) is z and unweak(z) == 2
    for v in (0.1, 0.0, -0.0, 16777217, 2**200, float("nan")):
        assert weak(v, f32) is v
    assert weak(3, np.dtype(np.float16)) == 3  # only float32/float64 are cached
    plain = np.zeros(())
    assert unweak(plain) is plain  # a 0-d array that is not a cached number stays an array
    assert all(len(c) <= 1024 for c in WEAK.values())


def test_saved_numbers_come_back_as_numbers_for_double_backward() -> None:
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * 3) / 2 * x
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert g.grad_fn is not None
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [3.0, 3.0, 3.0])


def test_zero_d_graph_matches_torch_bits() -> None:
    torch = pytest.importorskip("torch")
    res = {}
    for lib in (ember, torch):
        a = lib.tensor(0.999, requires_grad=True)
        b = lib.tensor(0.001, requires_grad=True)
        x = lib.tensor(1.5, requires_grad=True)
        y = x
        for _ in range(50):
            y = y * a + b - x / a
        y.backward()
        res[lib.__name__] = [np.float32(v.item()) for v in (y, a.grad, b.grad, x.grad)]
    assert res["ember"] == res["torch"]
    assert type(ember.tensor(2.0, requires_grad=True).exp().sum().grad_fn).__name__ \
        == "SumBackward0"


def test_scalar_seed_reaches_reductions_in_array_mode() -> None:
    x = ember.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 0.0]], requires_grad=True)
    x.prod().backward()  # the seed of a 0-d output is a NumPy scalar
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    y = ember.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [12.0, 8.0, 6.0]


@pytest.mark.parametrize("libname", ["ember", "torch"])
def test_detach_and_data_of_a_0d_result_share_memory(libname: str) -> None:
    lib = ember if libname == "ember" else pytest.importorskip("torch")
    s = lib.ones(3).sum()
    d = s.detach()
    s.add_(1)
    e = s.data
    s.add_(1)
    assert d.item() == 5.0 and e.item() == 5.0


@pytest.mark.parametrize("libname", ["ember", "torch"])
@pytest.mark.parametrize("how", ["inplace", "view", "detach"])
def test_saved_output_modified_later_is_detected(libname: str, how: str) -> None:
    lib = ember if libname == "ember" else pytest.importorskip("torch")
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # saves its output; its version counter is created lazily
    if how == "inplace":
        y.mul_(2)
    else:
        other = y.view(2) if how == "view" else y.detach()
        other.mul_(2)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                           "computation has been modified by an inplace"):
        y.sum().backward()


@pytest.mark.parametrize("libname", ["ember", "torch"])
def test_alpha_nodes_keep_torch_names(libname: str) -> None:
    lib = ember if libname == "ember" else pytest.importorskip("torch")
    x = lib.ones(2, requires_grad=True)
    w = lib.ones(2, requires_grad=True)
    a = lib.add(x, w, alpha=3)
    s = lib.sub(x, w, alpha=3)
    assert type(a.grad_fn).__name__ == "AddBackward0" and a.grad_fn.name() == "AddBackward0"
    assert type(s.grad_fn).__name__ == "SubBackward0"
    (a + s).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and w.grad.tolist() == [0.0, 0.0]


def test_freed_graph_inlined_release_and_retain_graph() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).exp()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * x.detach().numpy() *
                               np.exp(x.detach().numpy() ** 2), rtol=1e-6)
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second"):
        y.sum().backward()


@pytest.mark.parametrize("seed", range(6))
def test_random_dags_match_torch(seed: int) -> None:
    """Nodes reached along several paths (summed in the walk's buffers) and single-consumer
    chains (gradients passed straight on) give torch's gradients, and no two leaves share a
    gradient buffer."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(4) for _ in range(3)]
    plan = [(int(rng.integers(0, 6)), int(rng.integers(0, 100)), int(rng.integers(0, 100)))
            for _ in range(25)]
    grads = {}
    for lib in (ember, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in init]
        vals = list(leaves)
        for op, i, j in plan:
            a, b = vals[i % len(vals)], vals[j % len(vals)]
            vals.append([a + b, a * b, a - b, a.tanh(), a * 0.5 + b, (a / (b * b + 1))][op])
        out = sum(v.sum() for v in vals[-5:]) + vals[-1].norm()
        out.backward()
        grads[lib.__name__] = [None if t.grad is None else np.asarray(t.grad.detach()).copy()
                               for t in leaves]
        if lib is ember:
            arrs = [t.grad._data for t in leaves if t.grad is not None]
            assert all(not np.shares_memory(p, q) for k, p in enumerate(arrs)
                       for q in arrs[k + 1:])
    for e, t in zip(grads["ember"], grads["torch"], strict=True):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)
