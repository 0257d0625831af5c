"""LBFGS: parameters and losses after several steps match torch (float64), with and without the
strong-Wolfe line search; torch-free convergence checks."""

from __future__ import annotations

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def _rosenbrock(x):
    """sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2."""
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _run_rosen(lib, kw: dict, steps: int, dtype: str = "float64"):
    x = lib.tensor(np.array([-1.2, 1.0, -0.5, 0.8, 1.5, -1.0]),
                   dtype=getattr(lib, dtype), requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)
    losses = []

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
    st = opt.state[x]
    return x.detach().numpy().copy(), losses, st["func_evals"], st["n_iter"]


def _run_lsq(lib, kw: dict, steps: int):
    """Linear least squares plus an L2-penalised bias: two parameters, one without grad."""
    rng = np.random.default_rng(0)
    a, y = rng.normal(size=(20, 4)), rng.normal(size=(20,))
    w = lib.tensor(rng.normal(size=(4, 1)), requires_grad=True)
    b = lib.tensor(np.zeros(1), requires_grad=True)
    frozen = lib.tensor(np.ones(2), requires_grad=True)  # never receives a gradient
    A, Y = lib.tensor(a), lib.tensor(y)
    opt = lib.optim.LBFGS([w, frozen, b], **kw)

    def closure():
        opt.zero_grad()
        r = (A @ w).reshape(-1) + b - Y
        loss = (r * r).mean() + 0.1 * (b * b).sum() + 0.01 * (w**4).sum()
        loss.backward()
        return loss

    losses = [float(opt.step(closure)) for _ in range(steps)]
    return np.concatenate([w.detach().numpy().ravel(), b.detach().numpy()]), losses


CONFIGS = [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=7, history_size=3),
    dict(lr=1, max_iter=10, history_size=4, line_search_fn="strong_wolfe"),
    dict(max_iter=30, max_eval=12, tolerance_change=1e-12, tolerance_grad=1e-10),
]
# Rosenbrock is chaotic without a good line search: last-bit differences (torch's fused
# multiply-add in add_(alpha=), BLAS dot order) grow ~100x per 10 iterations, so the number of
# step() calls is chosen to keep 1e-8 meaningful; iteration/evaluation counts must match exactly.
STEPS = [1, 6, 6, 3, 3]


@pytest.mark.parametrize(("kw", "steps"), list(zip(CONFIGS, STEPS, strict=True)),
                         ids=[str(i) for i in range(len(CONFIGS))])
def test_rosenbrock_matches_torch(kw: dict, steps: int) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: LBFGS comparison skipped")
    got = _run_rosen(ember, kw, steps)
    want = _run_rosen(torch, kw, steps)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-8, atol=1e-10)
    assert got[2:] == want[2:]  # same number of closure evaluations and iterations


@pytest.mark.parametrize("kw", CONFIGS[:4], ids=[str(i) for i in range(4)])
def test_least_squares_matches_torch(kw: dict) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: LBFGS comparison skipped")
    got = _run_lsq(ember, kw, 4)
    want = _run_lsq(torch, kw, 4)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-8, atol=1e-10)


def test_float32_close_to_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: LBFGS comparison skipped")
    kw = dict(line_search_fn="strong_wolfe", max_iter=10)
    got = _run_rosen(ember, kw, 2, "float32")
    want = _run_rosen(torch, kw, 2, "float32")
    assert got[0].dtype == np.float32
    np.testing.assert_allclose(got[0], want[0], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("ls", [None, "strong_wolfe"])
def test_rosenbrock_converges(ls: str | None) -> None:
    x, losses, _, _ = _run_rosen(ember, dict(line_search_fn=ls, max_iter=50), 10)
    assert losses[-1] < losses[0]
    if ls == "strong_wolfe":
        np.testing.assert_allclose(x, np.ones(6), atol=1e-4)
        assert losses[-1] < 1e-9


def test_state_and_errors() -> None:
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ember.optim.LBFGS([{"params": [w]}, {"params": [ember.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ember.optim.LBFGS([w], lr=-1)
    opt = ember.optim.LBFGS([w], line_search_fn="bogus")

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    opt = ember.optim.LBFGS([w])
    assert opt.defaults["max_eval"] == 25
    loss = opt.step(closure)
    assert isinstance(loss, ember.Tensor) and float(loss) == pytest.approx(5.0)
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0], atol=1e-6)
    sd = opt.state_dict()
    assert {"func_evals", "n_iter", "d", "t", "old_dirs", "H_diag"} <= set(sd["state"][0])
    assert isinstance(sd["state"][0]["d"], ember.Tensor)
    # at the optimum: returns immediately after one evaluation
    evals = opt.state[w]["func_evals"]
    opt.step(closure)
    assert opt.state[w]["func_evals"] == evals + 1
