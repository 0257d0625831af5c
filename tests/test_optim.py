"""Optimizers: 100 steps from the same start match torch (float64, 1e-10 relative)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=False)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]


def _grad(w: np.ndarray) -> np.ndarray:
    """A deterministic gradient field (of a smooth non-quadratic loss)."""
    return w**3 - 0.5 * w + np.sin(3 * w)


def _run(lib, name: str, kw: dict, w0: list[np.ndarray], steps: int = 100) -> list[np.ndarray]:
    params = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
    opt = getattr(lib.optim, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.03}],
                                   **kw)
    for _ in range(steps):
        opt.zero_grad()
        for p in params:
            p.grad = lib.tensor(_grad(p.detach().numpy()))
        opt.step()
    return [p.detach().numpy().copy() for p in params]


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                        enumerate(CONFIGS)])
def test_optimizer_matches_torch(name: str, kw: dict) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: optimizer comparison skipped")
    rng = np.random.default_rng(0)
    w0 = [rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (5,))]
    got = _run(ember, name, kw, w0)
    want = _run(torch, name, kw, w0)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_sgd_by_hand() -> None:
    w = ember.tensor([1.0, -2.0], requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.5)
    w.grad = ember.tensor([0.2, 0.4])
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.9, -2.2])
    assert w._version == 1


def test_state_dict_round_trip() -> None:
    rng = np.random.default_rng(1)
    w0 = [rng.uniform(-1, 1, (3,))]
    p = ember.tensor(w0[0], requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1)
    for _ in range(3):
        p.grad = ember.tensor(_grad(p.detach().numpy()))
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert float(sd["state"][0]["step"]) == 3.0
    q = ember.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = ember.optim.Adam([q], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    for t in (p, q):
        t.grad = ember.tensor(_grad(t.detach().numpy()))
    opt.step()
    opt2.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)


def test_errors() -> None:
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.Adam([ember.ones(1, requires_grad=True)], lr=-1)
    a = ember.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        ember.optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
