"""Reductions: what the op table can't express (named tuples, dtypes, errors, stability, 2nd order)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

INF, NAN = float("inf"), float("nan")


def _torch():
    return pytest.importorskip("torch", reason="torch not installed: comparison skipped")


def _np(t: object) -> np.ndarray:
    return np.asarray(t.detach().tolist(), dtype=float)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- named tuples
def test_max_dim_named_tuple_and_repr() -> None:
    x = ember.tensor([[1.0, 3.0], [4.0, 2.0]])
    r = x.max(1)
    assert isinstance(r, tuple) and len(r) == 2
    assert type(r) is ember.return_types.max
    values, indices = r
    assert values is r.values and indices is r.indices and r[0] is r.values
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0]
    assert indices.dtype == ember.int64
    assert repr(r) == (
        "ember.return_types.max(\nvalues=tensor([3., 4.]),\nindices=tensor([1, 0]))"
    )
    assert repr(x.min(0)).startswith("ember.return_types.min(\nvalues=")
    assert repr(x.median(1)).startswith("ember.return_types.median(\nvalues=")
    mm = ember.aminmax(x)
    assert type(mm) is ember.return_types.aminmax and mm.min.item() == 1 and mm.max.item() == 4


def test_named_tuple_repr_matches_torch() -> None:
    torch = _torch()
    a = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    for f in (lambda m, x: m.max(x, 1), lambda m, x: x.min(0, keepdim=True),
              lambda m, x: x.median(1), lambda m, x: m.aminmax(x, dim=0)):
        want = repr(f(torch, torch.tensor(a, requires_grad=True)))
        got = repr(f(ember, ember.tensor(a, requires_grad=True)))
        assert got == want.replace("torch.", "ember.")


def test_return_types_importable() -> None:
    import ember.return_types as rt

    assert rt.max is ember.return_types.max


def test_max_binary_is_maximum() -> None:
    a, b = ember.tensor([1.0, 5.0]), ember.tensor([3.0, 2.0])
    assert ember.max(a, b).tolist() == [3.0, 5.0]
    assert ember.min(a, b).tolist() == [1.0, 2.0]
    assert a.max(b).tolist() == [3.0, 5.0]


# ---------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dt", [ember.int8, ember.int16, ember.int32, ember.int64, ember.uint8,
                                ember.bool])
def test_integer_sums_are_int64(dt: ember.dtype) -> None:
    x = ember.tensor([[1, 0, 1], [1, 1, 0]], dtype=dt)
    for r in (x.sum(), x.sum(0), x.prod(), x.prod(1), x.cumsum(0), x.nansum()):
        assert r.dtype == ember.int64
    assert x.sum().item() == 4


def test_dtype_arguments() -> None:
    x = ember.tensor([[1, 2], [3, 4]])
    assert x.sum(dtype=ember.float32).dtype == ember.float32
    assert x.mean(dtype=ember.float64).item() == 2.5
    assert x.float().cumsum(1, dtype=ember.float64).dtype == ember.float64
    assert x.float().softmax(0, dtype=ember.float64).dtype == ember.float64
    assert x.float().norm(dtype=ember.float64).dtype == ember.float64
    assert x.logsumexp(1).dtype == ember.float32
    assert x.max().dtype == ember.int64 and x.median().dtype == ember.int64
    assert x.argmax().dtype == ember.int64 and x.count_nonzero().dtype == ember.int64
    assert x.all().dtype == ember.bool and x.any(1).dtype == ember.bool
    assert x.byte().all().dtype == ember.uint8  # torch keeps uint8


def test_grad_of_dtype_reduction_keeps_input_dtype() -> None:
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=ember.float64).backward()
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- errors
def test_mean_of_integers_raises_like_torch() -> None:
    with pytest.raises(RuntimeError, match=r"^mean\(\): could not infer output dtype. Input dtype "
                       r"must be either a floating point or complex dtype. Got: Long"):
        ember.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="Got: Bool"):
        ember.tensor([True]).mean(0)


def test_dim_out_of_range() -> None:
    x = ember.ones(2, 3)
    msg = r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"
    for f in (lambda: x.sum(5), lambda: x.max(5), lambda: x.softmax(5), lambda: x.var(5),
              lambda: x.cumsum(5), lambda: x.amax((0, 5)), lambda: x.norm(dim=5)):
        with pytest.raises(IndexError, match=msg):
            f()
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.sum((0, -2))


def test_empty_reductions() -> None:
    e = ember.zeros(0, 3)
    with pytest.raises(RuntimeError, match=r"^max\(\): Expected reduction dim to be specified for "
                       r"input.numel\(\) == 0. Specify the reduction dim with the 'dim' argument"):
        e.max()
    with pytest.raises(IndexError, match=r"^amax\(\): Expected reduction dim 0 to have non-zero"):
        e.amax(0)
    with pytest.raises(RuntimeError, match=r"^aminmax\(\): cannot compute aminmax"):
        ember.aminmax(e)
    assert e.sum(0).tolist() == [0.0, 0.0, 0.0] and e.prod(0).tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(e.mean().item()) and e.amax(1).shape == (0,)
    assert e.logsumexp(0).tolist() == [-INF, -INF, -INF]


def test_int_only_errors() -> None:
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="^std and var only support floating point"):
        i.var()
    with pytest.raises(RuntimeError, match="^linalg.vector_norm: Expected a floating point"):
        i.norm()
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        i.softmax(0)
    with pytest.raises(RuntimeError, match="does not support bool input"):
        ember.tensor([True]).argmax()


def test_sum_to_size() -> None:
    x = ember.ones(2, 3, 4, requires_grad=True)
    assert x.sum_to_size(2, 3, 4) is x
    r = x.sum_to_size(3, 1)
    assert r.shape == (3, 1) and r.tolist() == [[8.0]] * 3
    r.sum().backward()
    assert x.grad.tolist() == np.ones((2, 3, 4)).tolist()
    with pytest.raises(RuntimeError, match=r"size \{\[2, 4\]\} is not expandable to size"):
        x.sum_to_size(2, 4)


def test_var_degrees_of_freedom_warns() -> None:
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        v = ember.tensor([2.0]).var()
    assert np.isnan(v.item())


# ---------------------------------------------------------------- values / stability
def test_softmax_log_softmax_stable_at_large_logits() -> None:
    x = ember.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4 + 1]], requires_grad=True)
    s, ls = x.softmax(1), x.log_softmax(1)
    assert np.isfinite(_np(s)).all() and np.isfinite(_np(ls)).all()
    np.testing.assert_allclose(_np(ls)[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(_np(s).sum(1), [1.0, 1.0], rtol=1e-6)
    (ls[:, 0].sum() + s[:, 1].sum()).backward()
    assert np.isfinite(_np(x.grad)).all()


def test_logsumexp_stable_and_infinite() -> None:
    x = ember.tensor([[1e4, 1e4], [-1e4, -1e4], [-INF, -INF], [INF, 1.0]], requires_grad=True)
    r = x.logsumexp(1)
    np.testing.assert_allclose(_np(r)[:2], [1e4 + np.log(2), -1e4 + np.log(2)], rtol=1e-6)
    assert r[2].item() == -INF and r[3].item() == INF
    r[:2].sum().backward()
    np.testing.assert_allclose(_np(x.grad)[:2], 0.5, rtol=1e-3)  # float32 ulp at 1e4


def test_grad_conventions_for_ties() -> None:
    torch = _torch()
    a = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    for f in (lambda x: x.max(), lambda x: x.max(1)[0], lambda x: x.amax(1), lambda x: x.min(0)[0],
              lambda x: x.median(), lambda x: x.norm(INF), lambda x: x.amin()):
        got = []
        for lib in (ember, torch):
            x = lib.tensor(a, requires_grad=True)
            f(x).sum().backward()
            got.append(_np(x.grad))
        np.testing.assert_allclose(got[0], got[1])


def test_norm_grad_at_zero_is_zero() -> None:
    for p in (2, 1, 3, 0.5, 1.5, INF, -INF, "fro"):
        x = ember.zeros(3, requires_grad=True)
        x.norm(p).backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0], p
    x = ember.zeros(3, requires_grad=True)
    x.norm(0).backward()
    assert x.grad is None  # torch: no gradient for the 0-"norm"


def test_prod_with_zeros() -> None:
    x = ember.tensor([[1.0, 0.0, 2.0, 0.0], [1.0, 2.0, 0.0, 4.0], [1.0, 2.0, 3.0, 4.0]],
                     requires_grad=True)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0, 0, 0, 0], [0, 0, 8, 0], [24, 12, 8, 6]]
    x.grad = None
    x.prod().backward()
    assert not _np(x.grad).any()
    y = ember.tensor([2.0, 0.0, 3.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 6.0, 0.0]


def test_cumprod_with_zeros() -> None:
    x = ember.tensor([[1.0, 0.0, 2.0, 0.0], [1.0, 2.0, 0.0, 4.0]], requires_grad=True)
    x.cumprod(1).sum().backward()
    assert x.grad.tolist() == [[1.0, 3.0, 0.0, 0.0], [3.0, 1.0, 10.0, 0.0]]


# ---------------------------------------------------------------- double backward vs torch
def _zeros_in(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a[0, 1] = 0.0
    a[1, 2] = a[1, 3] = 0.0
    return a


DOUBLE = {
    "sum": lambda lib, x: (x * x).sum(),
    "sum_dim": lambda lib, x: (x * x).sum(1, keepdim=False),
    "mean": lambda lib, x: (x * x).mean(0),
    "softmax": lambda lib, x: x.softmax(1),
    "log_softmax": lambda lib, x: lib.log_softmax(x, 0),
    "logsumexp": lambda lib, x: x.logsumexp(1),
    "var": lambda lib, x: x.var(1),
    "std": lambda lib, x: x.std(),
    "var_mean": lambda lib, x: lib.var_mean(x, 0)[0] * lib.var_mean(x, 0)[1],
    "norm": lambda lib, x: x.norm(dim=1),
    "norm_p3": lambda lib, x: x.norm(3),
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(1),
    "max": lambda lib, x: (x * x).max(),
    "max_dim": lambda lib, x: (x * x).max(1)[0],
    "amax": lambda lib, x: (x * x).amax(0),
    "median": lambda lib, x: (x * x).median(1).values,
    "cumsum": lambda lib, x: (x * x).cumsum(1),
    "cumprod": lambda lib, x: x.cumprod(1),
}


CASES = [(n, False) for n in DOUBLE] + [(n, True) for n in ("prod", "prod_dim", "cumprod", "norm")]


@pytest.mark.parametrize(("name", "zeros"), CASES,
                         ids=[n + ("-zeros" if z else "") for n, z in CASES])
def test_double_backward_matches_torch(name: str, zeros: bool) -> None:
    torch = _torch()
    rng = np.random.default_rng(0)
    a = rng.uniform(-1.5, 1.5, size=(3, 4))
    if zeros:
        a = _zeros_in(a)
    fn = DOUBLE[name]
    res = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = fn(lib, x)
        gy = lib.tensor(np.random.default_rng(1).uniform(-1, 1, size=tuple(y.shape)))
        (gx,) = lib.autograd.grad(y, x, gy, create_graph=True)
        w = lib.tensor(np.random.default_rng(2).uniform(-1, 1, size=a.shape))
        (ggx,) = lib.autograd.grad((gx * w).sum(), x, allow_unused=True)
        res.append((_np(gx), np.zeros_like(a) if ggx is None else _np(ggx)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6, atol=1e-9, err_msg="first")
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, atol=1e-9, err_msg="second")


def test_sum_to_is_differentiable_in_create_graph_mode() -> None:
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = ember.tensor([0.5, 1.5], requires_grad=True)
    y = ((x + b) ** 2).sum()
    (gb,) = ember.autograd.grad(y, b, create_graph=True)  # uses E.sum_to on Tensors
    assert gb.grad_fn is not None
    np.testing.assert_allclose(_np(gb), [2 * (1.5 + 3.5), 2 * (3.5 + 5.5)])
    (ggb,) = ember.autograd.grad(gb.sum(), b)
    np.testing.assert_allclose(_np(ggb), [4.0, 4.0])


def test_no_warnings_on_nan_paths() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.zeros(0).mean()
        ember.tensor([-INF, -INF]).softmax(0)
        ember.tensor([[1.0, NAN]]).median(1)
