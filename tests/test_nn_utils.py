"""nn.utils: gradient clipping and parameter vectors against torch, plus by-hand checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.nn import utils as eu


def _params(lib, dtypes=("float64", "float64", "float64"), seed: int = 0, grads=(0, 1, 2)):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    out = []
    for i, (shape, dt) in enumerate(zip(shapes, dtypes, strict=True)):
        p = lib.nn.Parameter(lib.tensor(rng.normal(size=shape), dtype=getattr(lib, dt)))
        g = rng.normal(size=shape) * (i + 1)
        if i in grads:
            p.grad = lib.tensor(g, dtype=getattr(lib, dt))
        out.append(p)
    return out


def _grads(ps) -> list:
    return [None if p.grad is None else p.grad.detach().numpy().copy() for p in ps]


NORMS = [2.0, 1.0, 3.5, 0.5, float("inf"), -float("inf"), 0.0, "inf", 2]


@pytest.mark.parametrize("norm_type", NORMS, ids=[str(n) for n in NORMS])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm: float) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: clipping comparison skipped")
    for dtypes, tol in [(("float64",) * 3, 1e-12), (("float32",) * 3, 1e-5),
                        (("float32", "float64", "float32"), 1e-5)]:
        pe, pt = _params(ember, dtypes, grads=(0, 2)), _params(torch, dtypes, grads=(0, 2))
        ne = eu.clip_grad_norm_(pe, max_norm, norm_type=norm_type)
        nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=norm_type)
        assert str(ne.dtype).split(".")[-1] == str(nt.dtype).split(".")[-1]
        assert ne.shape == () and ne.grad_fn is None
        np.testing.assert_allclose(float(ne), float(nt), rtol=tol)
        for ge, gt, p in zip(_grads(pe), _grads(pt), pe, strict=True):
            if gt is None:
                assert ge is None
            else:
                assert ge.dtype == gt.dtype == np.asarray(p.detach().numpy()).dtype
                np.testing.assert_allclose(ge, gt, rtol=tol, atol=1e-7)


def test_get_total_norm_and_clip_with_norm_match_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: clipping comparison skipped")
    pe, pt = _params(ember), _params(torch)
    ne = eu.get_total_norm([p.grad for p in pe], 3.0)
    nt = torch.nn.utils.get_total_norm([p.grad for p in pt], 3.0)
    np.testing.assert_allclose(float(ne), float(nt), rtol=1e-12)
    eu.clip_grads_with_norm_(pe, 2.0, ne)
    torch.nn.utils.clip_grads_with_norm_(pt, 2.0, nt)
    for ge, gt in zip(_grads(pe), _grads(pt), strict=True):
        np.testing.assert_allclose(ge, gt, rtol=1e-12)


@pytest.mark.parametrize("clip", [0.3, 2, 100.0])
def test_clip_grad_value_matches_torch(clip) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: clipping comparison skipped")
    pe, pt = _params(ember, grads=(1, 2)), _params(torch, grads=(1, 2))
    assert eu.clip_grad_value_(pe, clip) is None
    torch.nn.utils.clip_grad_value_(pt, clip)
    for ge, gt in zip(_grads(pe), _grads(pt), strict=True):
        if gt is None:
            assert ge is None
        else:
            np.testing.assert_array_equal(ge, gt)


def test_parameters_vector_round_trip_matches_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: vector comparison skipped")
    pe, pt = _params(ember), _params(torch)
    ve, vt = eu.parameters_to_vector(pe), torch.nn.utils.parameters_to_vector(pt)
    np.testing.assert_array_equal(ve.detach().numpy(), vt.detach().numpy())
    assert ve.grad_fn.name() == vt.grad_fn.name() == "CatBackward0"
    assert ve.requires_grad
    # gradient flows back to every parameter
    w = np.arange(ve.shape[0], dtype=np.float64)
    (ve * ember.tensor(w)).sum().backward()
    (vt * torch.tensor(w)).sum().backward()
    for a, b in zip(pe, pt, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    new = np.linspace(-1, 1, ve.shape[0])
    eu.vector_to_parameters(ember.tensor(new), pe)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), pt)
    for a, b in zip(pe, pt, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert isinstance(a, ember.nn.Parameter) and a.requires_grad


# ----------------------------------------------------------------- torch-free checks
def test_clip_grad_norm_by_hand() -> None:
    a = ember.nn.Parameter(ember.tensor([3.0, 0.0]))
    b = ember.nn.Parameter(ember.tensor([4.0]))
    c = ember.nn.Parameter(ember.tensor([1.0]))  # no grad: ignored
    a.grad, b.grad = ember.tensor([3.0, 0.0]), ember.tensor([4.0])
    total = eu.clip_grad_norm_([a, b, c], max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-6)
    assert c.grad is None
    # below the threshold: unchanged (coefficient clamped at 1)
    total = eu.clip_grad_norm_(a, max_norm=10.0, norm_type=1)
    assert float(total) == pytest.approx(0.6, rel=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-6)
    assert float(eu.clip_grad_norm_([b], 1.0, norm_type="inf")) == pytest.approx(0.8, rel=1e-6)


def test_clip_grad_norm_nonfinite() -> None:
    a = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    a.grad = ember.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        eu.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(np.isnan(a.grad.numpy()), [True, False])  # untouched
    a.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        eu.clip_grad_norm_([a], 1.0, norm_type=1.0, error_if_nonfinite=True)
    total = eu.clip_grad_norm_([a], 1.0)
    assert np.isinf(float(total))


def test_empty_inputs() -> None:
    total = eu.clip_grad_norm_([], 1.0)
    assert float(total) == 0.0 and total.dtype == ember.float32
    with pytest.warns(UserWarning, match="empty generator"):
        eu.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        eu.clip_grad_norm([], 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eu.clip_grad_value_([], 1.0)


def test_clip_grad_value_by_hand() -> None:
    a = ember.nn.Parameter(ember.tensor([[-3.0, 0.5], [2.0, -0.1]]))
    a.grad = a.detach().clone()
    eu.clip_grad_value_(a, 1)
    np.testing.assert_allclose(a.grad.numpy(), [[-1.0, 0.5], [1.0, -0.1]])


def test_vector_to_parameters_errors_and_sharing() -> None:
    a = ember.nn.Parameter(ember.zeros(2, 2))
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        eu.vector_to_parameters([1.0, 2.0, 3.0, 4.0], [a])
    with pytest.raises(TypeError, match="got: numpy.ndarray"):
        eu.vector_to_parameters(np.zeros(4), [a])
    v = ember.arange(4.0)
    eu.vector_to_parameters(v, [a])
    np.testing.assert_array_equal(a.detach().numpy(), [[0.0, 1.0], [2.0, 3.0]])
    assert eu.parameters_to_vector([a]).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_clip_then_step_trains() -> None:
    """clip_grad_norm_ between backward and step in a regression loop lowers the loss."""
    rng = np.random.default_rng(0)
    x, y = ember.tensor(rng.normal(size=(32, 3))), ember.tensor(rng.normal(size=(32, 1)))
    w = ember.nn.Parameter(ember.zeros(3, 1, dtype=ember.float64))
    opt = ember.optim.SGD([w], lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        n = eu.clip_grad_norm_([w], 0.05)
        assert float(w.grad.norm()) <= min(float(n), 0.05) + 1e-9
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
