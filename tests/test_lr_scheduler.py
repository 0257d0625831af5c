"""Learning-rate schedulers: every lr (and momentum) step by step against torch, plus by-hand
values, state_dict round trips and the step-order warning."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.optim import lr_scheduler as elrs


def _opt(lib, name: str = "SGD", **kw):
    a = lib.zeros(3, requires_grad=True)
    b = lib.zeros(2, requires_grad=True)
    kw.setdefault("lr", 0.1)
    if name == "SGD":
        kw.setdefault("momentum", 0.9)
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.37}], **kw)


def _group_vals(opt) -> list:
    out = []
    for g in opt.param_groups:
        out.append(float(g["lr"]))
        if "betas" in g:
            out.append(float(g["betas"][0]))
            out.append(float(g["betas"][1]))
        if "momentum" in g:
            out.append(float(g["momentum"]))
    return out


# (optimizer name, optimizer kwargs, scheduler factory(mod, opt), steps)
SCHEDS = {
    "StepLR": ("SGD", {}, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5), 60),
    "MultiStepLR": ("SGD", {}, lambda m, o: m.MultiStepLR(o, [5, 12, 12, 30], 0.3), 60),
    "ExponentialLR": ("SGD", {}, lambda m, o: m.ExponentialLR(o, gamma=0.93), 80),
    "CosineAnnealingLR": ("SGD", {}, lambda m, o: m.CosineAnnealingLR(o, T_max=13), 100),
    "CosineAnnealingLR-eta": ("Adam", {}, lambda m, o: m.CosineAnnealingLR(o, 10, 1e-3), 100),
    "LambdaLR": ("SGD", {}, lambda m, o: m.LambdaLR(o, lambda e: 0.97**e + 1 / (e + 1)), 60),
    "LambdaLR-list": ("SGD", {}, lambda m, o: m.LambdaLR(
        o, [lambda e: 1 / (e + 1), lambda e: 0.9**e]), 50),
    "MultiplicativeLR": ("SGD", {}, lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95), 60),
    "LinearLR": ("SGD", {}, lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=17), 50),
    "LinearLR-down": ("SGD", {}, lambda m, o: m.LinearLR(o, 1.0, 0.05, 23), 50),
    "ConstantLR": ("SGD", {}, lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6), 30),
    "PolynomialLR": ("SGD", {}, lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.5), 40),
    "OneCycleLR-sgd": ("SGD", {}, lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=80), 80),
    "OneCycleLR-adam-linear": ("Adam", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=[0.01, 0.05], epochs=10, steps_per_epoch=9, pct_start=0.25,
        anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0), 90),
    "OneCycleLR-three": ("AdamW", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.1, total_steps=70, three_phase=True, base_momentum=0.8,
        max_momentum=0.9), 70),
    "OneCycleLR-nomom": ("SGD", {"momentum": 0}, lambda m, o: m.OneCycleLR(
        o, 0.5, total_steps=40, cycle_momentum=False), 40),
    "CosineAnnealingWarmRestarts": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001), 90),
    "CosineAnnealingWarmRestarts-1": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=7), 60),
    "CyclicLR-tri": ("SGD", {}, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6), 60),
    "CyclicLR-tri2": ("SGD", {}, lambda m, o: m.CyclicLR(
        o, [0.01, 0.02], 0.1, step_size_up=4, step_size_down=7, mode="triangular2"), 70),
    "CyclicLR-exp": ("Adam", {}, lambda m, o: m.CyclicLR(
        o, 0.001, 0.01, step_size_up=5, mode="exp_range", gamma=0.97), 60),
    "SequentialLR": ("SGD", {}, lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.ExponentialLR(o, 0.9),
            m.StepLR(o, 4, 0.5)], milestones=[5, 20]), 50),
    "SequentialLR-cos": ("SGD", {}, lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, 0.5, 3), m.CosineAnnealingLR(o, T_max=20)], milestones=[4]), 60),
    "ChainedScheduler": ("SGD", {}, lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, 0.1, total_iters=4), m.ExponentialLR(o, gamma=0.9)]), 40),
    "ChainedScheduler-opt": ("Adam", {}, lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, 0.2, total_iters=8), m.CosineAnnealingLR(o, 15)], optimizer=o), 50),
}


def _trace(lib, mod, name: str, kw: dict, factory, steps: int) -> list:
    opt = _opt(lib, name, **kw)
    sched = factory(mod, opt)
    out = [list(map(float, sched.get_last_lr())) + _group_vals(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(list(map(float, sched.get_last_lr())) + _group_vals(opt))
    return out


@pytest.mark.parametrize("key", list(SCHEDS))
def test_scheduler_matches_torch(key: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: scheduler comparison skipped")
    name, kw, factory, steps = SCHEDS[key]
    want = _trace(torch, torch.optim.lr_scheduler, name, kw, factory, steps)
    got = _trace(ember, elrs, name, kw, factory, steps)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_reduce_on_plateau_matches_torch(mode: str, threshold_mode: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: scheduler comparison skipped")
    rng = np.random.default_rng(1)
    metrics = np.concatenate([np.linspace(5, 1, 10), 1 + rng.uniform(0, 0.01, 60),
                              np.linspace(1, 0.5, 10), np.full(40, 0.5)])
    if mode == "max":
        metrics = -metrics

    def run(lib, mod):
        opt = _opt(lib)
        s = mod.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=3,
                                  threshold=1e-3, threshold_mode=threshold_mode, cooldown=2,
                                  min_lr=[1e-3, 0.02], eps=1e-9)
        out = []
        for i, m in enumerate(metrics):
            opt.step()
            s.step(lib.tensor(m) if i % 2 else float(m))
            out.append([*map(float, s.get_last_lr()), s.num_bad_epochs, s.cooldown_counter,
                        float(s.best)])
        return out

    want = run(torch, torch.optim.lr_scheduler)
    got = run(ember, elrs)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch() -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: scheduler comparison skipped")

    def run(lib, mod):
        opt = _opt(lib)
        s = mod.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(20):
                for i in range(4):
                    opt.step()
                    s.step(epoch + i / 4)
                    out.append(list(map(float, s.get_last_lr())))
        return out

    np.testing.assert_allclose(run(ember, elrs), run(torch, torch.optim.lr_scheduler),
                               rtol=1e-12)


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "OneCycleLR-sgd", "LinearLR",
                                 "CyclicLR-tri2"])
def test_epoch_argument_matches_torch(key: str) -> None:
    torch = pytest.importorskip("torch", reason="torch not installed: scheduler comparison skipped")
    name, kw, factory, _ = SCHEDS[key]

    def run(lib, mod):
        opt = _opt(lib, name, **kw)
        s = factory(mod, opt)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 7, 7, 14, 2, 20]:
                opt.step()
                s.step(e)
                out.append(list(map(float, s.get_last_lr())))
        return out

    np.testing.assert_allclose(run(ember, elrs), run(torch, torch.optim.lr_scheduler),
                               rtol=1e-12)


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "OneCycleLR-adam-linear",
                                 "SequentialLR", "ChainedScheduler", "LambdaLR",
                                 "CosineAnnealingWarmRestarts", "CyclicLR-exp"])
def test_state_dict_resume(key: str) -> None:
    """Stop after 17 steps, restore into fresh optimizer+scheduler, continue: same lrs."""
    name, kw, factory, steps = SCHEDS[key]
    full = _trace(ember, elrs, name, kw, factory, steps)
    opt = _opt(ember, name, **kw)
    s = factory(elrs, opt)
    for _ in range(17):
        opt.step()
        s.step()
    sd_s, sd_o = s.state_dict(), opt.state_dict()
    assert "optimizer" not in sd_s
    opt2 = _opt(ember, name, **kw)
    s2 = factory(elrs, opt2)
    opt2.load_state_dict(sd_o)
    s2.load_state_dict(sd_s)
    got = []
    for _ in range(steps - 17):
        opt2.step()
        s2.step()
        got.append(list(map(float, s2.get_last_lr())) + _group_vals(opt2))
    np.testing.assert_allclose(got, full[18:], rtol=1e-12)


# ----------------------------------------------------------------- torch-free checks
def test_step_lr_by_hand() -> None:
    opt = _opt(ember)
    s = elrs.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(s.get_last_lr()[0])
        opt.step()
        s.step()
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert opt.param_groups[0]["initial_lr"] == 0.1
    assert s.base_lrs == [0.1, 0.37]
    assert s.last_epoch == 6


def test_cosine_closed_form_by_hand() -> None:
    opt = _opt(ember)
    s = elrs.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for e in range(1, 31):
        opt.step()
        s.step()
        want = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2
        assert s.get_last_lr()[0] == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_one_cycle_by_hand() -> None:
    opt = _opt(ember, "Adam")
    s = elrs.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5, div_factor=4.0,
                        final_div_factor=5.0, anneal_strategy="linear")
    assert s.get_last_lr() == [0.25, 0.25]
    assert opt.param_groups[0]["betas"][0] == 0.95
    lrs = [s.get_last_lr()[0]]
    for _ in range(9):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs[4] == pytest.approx(1.0)
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.95)
    assert lrs[9] == pytest.approx(0.05)
    opt.step()
    s.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s.step()


def test_reduce_on_plateau_by_hand() -> None:
    opt = _opt(ember)
    s = elrs.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for m in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]:
        s.step(m)
    assert s.get_last_lr() == pytest.approx([0.025, 0.0925])


def test_step_order_warning() -> None:
    opt = _opt(ember)
    s = elrs.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before"):
        s.step()
    opt2 = _opt(ember)
    s2 = elrs.ExponentialLR(opt2, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt2.step()
        s2.step()
        assert s2.get_last_lr() == [0.05, 0.185]


def test_get_lr_outside_step_warns() -> None:
    s = elrs.StepLR(_opt(ember), 3)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        s.get_lr()


def test_errors() -> None:
    opt = _opt(ember)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        elrs.StepLR([], 3)
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified"):
        elrs.StepLR(opt, 3, last_epoch=4)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        elrs.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        elrs.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="You must define either total_steps"):
        elrs.OneCycleLR(opt, 0.1)
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        elrs.SequentialLR(opt, [], [])
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        elrs.OneCycleLR(ember.optim.Adagrad([ember.zeros(1, requires_grad=True)]), 0.1,
                        total_steps=5)
    p = elrs.ReduceLROnPlateau(opt)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        elrs.ChainedScheduler([p])


def test_lambda_state_dict_skips_functions() -> None:
    class Fn:
        def __init__(self) -> None:
            self.k = 0.5

        def __call__(self, e: int) -> float:
            return self.k**e

    opt = _opt(ember)
    s = elrs.LambdaLR(opt, [Fn(), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.5}, None]
    sd["lr_lambdas"][0]["k"] = 0.25
    s.load_state_dict(sd)
    opt.step()
    s.step()
    assert s.get_last_lr() == pytest.approx([0.025, 0.37])
