"""Pointwise ops: higher-order gradients (create_graph), torch's edge conventions, erf accuracy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember

# name -> (function of one tensor, sampling domain)
UNARY = {
    "exp": (lambda L, x: L.exp(x), (-2, 2)),
    "exp2": (lambda L, x: L.exp2(x), (-2, 2)),
    "expm1": (lambda L, x: L.expm1(x), (-2, 2)),
    "log": (lambda L, x: L.log(x), (0.2, 2)),
    "log2": (lambda L, x: L.log2(x), (0.2, 2)),
    "log10": (lambda L, x: L.log10(x), (0.2, 2)),
    "log1p": (lambda L, x: L.log1p(x), (-0.5, 2)),
    "sqrt": (lambda L, x: L.sqrt(x), (0.2, 2)),
    "rsqrt": (lambda L, x: L.rsqrt(x), (0.2, 2)),
    "sin": (lambda L, x: L.sin(x), (-2, 2)),
    "cos": (lambda L, x: L.cos(x), (-2, 2)),
    "tan": (lambda L, x: L.tan(x), (-1.2, 1.2)),
    "asin": (lambda L, x: L.asin(x), (-0.9, 0.9)),
    "acos": (lambda L, x: L.acos(x), (-0.9, 0.9)),
    "atan": (lambda L, x: L.atan(x), (-2, 2)),
    "sinh": (lambda L, x: L.sinh(x), (-2, 2)),
    "cosh": (lambda L, x: L.cosh(x), (-2, 2)),
    "asinh": (lambda L, x: L.asinh(x), (-2, 2)),
    "acosh": (lambda L, x: L.acosh(x), (1.2, 3)),
    "atanh": (lambda L, x: L.atanh(x), (-0.9, 0.9)),
    "tanh": (lambda L, x: L.tanh(x), (-2, 2)),
    "sigmoid": (lambda L, x: L.sigmoid(x), (-4, 4)),
    "relu": (lambda L, x: L.relu(x), (-2, 2)),
    "erf": (lambda L, x: L.erf(x), (-2.5, 2.5)),
    "erfc": (lambda L, x: L.erfc(x), (-2.5, 2.5)),
    "erfinv": (lambda L, x: L.erfinv(x), (-0.9, 0.9)),
    "reciprocal": (lambda L, x: L.reciprocal(x), (0.3, 2)),
    "abs": (lambda L, x: L.abs(x), (-2, 2)),
    "frac": (lambda L, x: L.frac(x), (-2, 2)),
    "nan_to_num": (lambda L, x: L.nan_to_num(x), (-2, 2)),
    "logit": (lambda L, x: L.logit(x), (0.1, 0.9)),
    "logit_eps": (lambda L, x: L.logit(x, eps=0.2), (0.0, 1.0)),
    "clamp": (lambda L, x: L.clamp(x, -1, 1) * x, (-2, 2)),
    "clamp_min": (lambda L, x: L.clamp_min(x, 0.3) ** 2, (-2, 2)),
    "clamp_max": (lambda L, x: L.clamp_max(x, 0.3) ** 2, (-2, 2)),
    "where": (lambda L, x: L.where(x > 0, x * x, L.sin(x)), (-2, 2)),
    "maximum_self": (lambda L, x: L.maximum(x * x, L.sin(x)), (-2, 2)),
    "minimum_self": (lambda L, x: L.minimum(x * x, L.sin(x)), (-2, 2)),
    "copysign": (lambda L, x: L.copysign(x * x, -1.0), (-2, 2)),
    "xlogy_other": (lambda L, x: L.xlogy(x * x, 3.0), (-2, 2)),
    "xlogy_self": (lambda L, x: L.xlogy(2.0, x * x + 0.5), (-2, 2)),
    "remainder": (lambda L, x: L.remainder(x * x, 0.7), (-2, 2)),
    "fmod": (lambda L, x: L.fmod(x * x * x, 0.7), (-2, 2)),
    "lerp": (lambda L, x: L.lerp(x, x * x, 0.3), (-2, 2)),
    "sign_times": (lambda L, x: L.sign(x) * x * x, (-2, 2)),
}

# name -> (function of two tensors, domain)
BINARY = {
    "maximum": (lambda L, a, b: L.maximum(a * a, b), (-2, 2)),
    "minimum": (lambda L, a, b: L.minimum(a, b * b), (-2, 2)),
    "fmax": (lambda L, a, b: L.fmax(a * b, b), (-2, 2)),
    "fmin": (lambda L, a, b: L.fmin(a * b, b), (-2, 2)),
    "atan2": (lambda L, a, b: L.atan2(a, b), (0.3, 2)),
    "hypot": (lambda L, a, b: L.hypot(a, b), (0.3, 2)),
    "copysign": (lambda L, a, b: L.copysign(a * a, b), (-2, 2)),
    "xlogy": (lambda L, a, b: L.xlogy(a, b), (0.3, 2)),
    "remainder": (lambda L, a, b: L.remainder(a * b, b), (0.3, 2)),
    "fmod": (lambda L, a, b: L.fmod(a * b, b), (0.3, 2)),
    "lerp_tensor": (lambda L, a, b: L.lerp(a, b * b, a * b), (-1, 1)),
    "where": (lambda L, a, b: L.where(a > b, a * b, b * b), (-2, 2)),
    "clamp_tensor": (lambda L, a, b: L.clamp(a * a, b, b + 1) * a, (-2, 2)),
    "clamp_min_tensor": (lambda L, a, b: L.clamp_min(a, b) * b, (-2, 2)),
    "clamp_max_tensor": (lambda L, a, b: L.clamp_max(a, b) * b, (-2, 2)),
}


def _sample(domain: tuple, shape: tuple = (3, 4), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(domain[0], domain[1], shape)


def _np(g: object) -> np.ndarray | None:
    if g is None:
        return None
    if getattr(g, "_is_zerotensor", lambda: False)():  # torch's symbolic zeros
        return np.zeros(tuple(g.shape))
    return g.detach().numpy()


def _second(L: object, f: object, arrays: list) -> tuple:
    """First gradients (create_graph) and the gradient of their sum: arrays (or None)."""
    xs = [L.tensor(a, requires_grad=True) for a in arrays]
    gs = L.autograd.grad(f(L, *xs).sum(), xs, create_graph=True)
    first = [_np(g) for g in gs]
    live = [g for g in gs if g.requires_grad]
    if not live:
        return first, None
    ggs = L.autograd.grad(sum(g.sum() for g in live), xs, allow_unused=True)
    return first, [_np(g) for g in ggs]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_derivative_finite_differences(name: str) -> None:
    """d/dx of ember's first derivative (elementwise ops: the diagonal) vs central differences."""
    f, dom = UNARY[name]
    x = _sample(dom)
    first, second = _second(ember, f, [x])
    eps = 1e-6
    gp, _ = _second(ember, f, [x + eps])
    gm, _ = _second(ember, f, [x - eps])
    num = (gp[0] - gm[0]) / (2 * eps)
    ana = np.zeros_like(x) if second is None or second[0] is None else second[0]
    np.testing.assert_allclose(ana, num, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_second_derivative_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    f, dom = UNARY[name]
    x = _sample(dom, seed=1)
    e1, e2 = _second(ember, f, [x])
    t1, t2 = _second(torch, f, [x])
    np.testing.assert_allclose(e1[0], t1[0], rtol=1e-10, atol=1e-12, err_msg=name)
    if t2 is None:  # torch's first gradient is a constant: so must ember's be
        assert e2 is None, f"{name}: ember's gradient records a graph, torch's does not"
        return
    e = np.zeros_like(x) if e2 is None or e2[0] is None else e2[0]
    t = np.zeros_like(x) if t2[0] is None else t2[0]
    np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_second_derivative_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: comparison skipped")
    f, dom = BINARY[name]
    arrays = [_sample(dom, seed=2), _sample(dom, (4,), seed=3)]
    e1, e2 = _second(ember, f, arrays)
    t1, t2 = _second(torch, f, arrays)
    for e, t in zip(e1, t1, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12, err_msg=name)
    assert (e2 is None) == (t2 is None), name
    for i, (e, t) in enumerate(zip(e2 or [], t2 or [], strict=True)):
        e = np.zeros_like(arrays[i]) if e is None else e
        t = np.zeros_like(arrays[i]) if t is None else t
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12, err_msg=f"{name} input {i}")


def test_kink_conventions() -> None:
    """torch's subgradients: abs/relu/sign give 0 at 0, clamp passes at its bounds, max splits."""
    x = ember.tensor([-1.0, 0.0, 1.0, 2.0], requires_grad=True)
    y = ember.tensor([0.0, 0.0, 1.0, 1.0], requires_grad=True)
    (g,) = ember.autograd.grad(x.abs().sum(), x)
    assert g.tolist() == [-1.0, 0.0, 1.0, 1.0]
    (g,) = ember.autograd.grad(x.relu().sum(), x)
    assert g.tolist() == [0.0, 0.0, 1.0, 1.0]
    (g,) = ember.autograd.grad(x.clamp(-1, 1).sum(), x)
    assert g.tolist() == [1.0, 1.0, 1.0, 0.0]
    ga, gb = ember.autograd.grad(ember.maximum(x, y).sum(), (x, y))
    assert ga.tolist() == [0.0, 0.5, 0.5, 1.0] and gb.tolist() == [1.0, 0.5, 0.5, 0.0]
    ga, gb = ember.autograd.grad(ember.fmax(x, y).sum(), (x, y))
    assert ga.tolist() == [0.0, 1.0, 1.0, 1.0] and gb.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_floor_divide_has_no_derivative() -> None:
    x = ember.tensor([1.5, -2.5], requires_grad=True)
    r = x // 2
    assert r.requires_grad and r.grad_fn.name() == "torch::autograd::NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        r.sum().backward()
    with pytest.raises(RuntimeError, match="derivative for aten::remainder is not implemented"):
        (2 % x).sum().backward()
    assert x.grad is None


def test_integer_division_by_zero_raises() -> None:
    i = ember.tensor([3, 4])
    for f in (lambda: i // 0, lambda: i % ember.tensor([1, 0]), lambda: ember.fmod(i, 0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f()


def test_erf_family_accuracy() -> None:
    """float64 erf/erfc (small and large-tensor paths) against math.erf / math.erfc."""
    rng = np.random.default_rng(0)
    for x in (rng.uniform(-6, 6, 50), rng.uniform(-6, 6, 5000), rng.uniform(-26, 26, 5000),
              rng.uniform(-1, 1, 3000)):
        ref = np.array([math.erf(v) for v in x])
        refc = np.array([math.erfc(v) for v in x])
        got = ember.erf(ember.tensor(x)).numpy()
        gotc = ember.erfc(ember.tensor(x)).numpy()
        np.testing.assert_allclose(got, ref, rtol=2e-15, atol=1e-300)
        np.testing.assert_allclose(gotc, refc, rtol=5e-15, atol=1e-300)
    y = rng.uniform(-0.999, 0.999, 3000)
    back = ember.erf(ember.erfinv(ember.tensor(y))).numpy()
    np.testing.assert_allclose(back, y, rtol=1e-14, atol=1e-15)
    edge = ember.erfinv(ember.tensor([-1.0, 1.0, 1.5, 0.0])).tolist()
    assert edge[:2] == [-math.inf, math.inf] and math.isnan(edge[2]) and edge[3] == 0.0


def test_sigmoid_extremes_are_finite_and_exact() -> None:
    s = ember.sigmoid(ember.tensor([-1000.0, -40.0, 0.0, 40.0, 1000.0], dtype=ember.float64))
    np.testing.assert_allclose(s.numpy(), [0.0, 4.248354255291589e-18, 0.5, 1.0, 1.0], rtol=1e-15)


def test_comparison_dunders_with_other_types() -> None:
    x = ember.tensor([1.0, 2.0])
    assert (x == None) is False and (x != "a") is True  # noqa: E711
    with pytest.raises(TypeError):
        _ = x < [1, 2]
    assert (2 < x).tolist() == [False, False] and (x >= 2).tolist() == [False, True]


def test_errors_match_torch_classes() -> None:
    f = ember.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        ~f
    with pytest.raises(NotImplementedError, match="bitwise_and_cpu"):
        f & 1
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        ember.where(ember.tensor([1, 0]), f, f)
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other'"):
        ember.maximum(f, 2)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        f.clamp()
    with pytest.raises(RuntimeError, match="expected dtype float for `end`"):
        ember.lerp(f, f.double(), 0.5)
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        ember.isclose(ember.tensor([1]), f[:1])
