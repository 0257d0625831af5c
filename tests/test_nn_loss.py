"""Losses (ember.nn.functional and nn.*Loss) against torch: values, gradients, node names,
stability at extreme logits, bad input; plus torch-free hand values and finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

REDS = ["none", "mean", "sum"]
DTYPES = ["float32", "float64"]


def _torch():
    return pytest.importorskip("torch", reason="torch is the oracle for the loss comparisons")


# ---------------------------------------------------------------------------- case builders
def _rng(seed=0):
    return np.random.default_rng(seed)


def _x(*shape, seed=0):
    return _rng(seed).standard_normal(shape)


def _u(*shape, lo=0.0, hi=1.0, seed=1):
    return _rng(seed).uniform(lo, hi, shape)


def _idx(n, c, seed=2, shape=None):
    return _rng(seed).integers(0, c, shape if shape is not None else (n,)).astype(np.int64)


def _pm1(*shape, seed=3):
    return np.where(_rng(seed).random(shape) < 0.5, -1.0, 1.0)


def _ign(t, value=-100):
    t = t.copy()
    t.flat[::3] = value
    return t


# (name, function, inputs [np arrays; int arrays stay integral], grad input positions, kwargs,
#  float-only keyword tensors)
def _cases():
    x, y = _x(3, 4), _x(3, 4, seed=5)
    p, q = _u(3, 4, lo=0.05, hi=0.95), _u(3, 4, seed=4)
    t = _idx(3, 4)
    logp = np.log(_u(3, 4, lo=0.1, hi=1.0, seed=6))
    prob = _u(3, 4, seed=7)
    prob = prob / prob.sum(1, keepdims=True)
    w4 = _u(4, lo=0.2, hi=2.0, seed=8)
    cs = []
    add = cs.append
    add(("mse", "mse_loss", [x, y], (0, 1), {}, {}))
    add(("mse_bcast", "mse_loss", [x, _x(4, seed=9)], (0, 1), {}, {}))
    add(("mse_w", "mse_loss", [x, y], (0, 1), {}, {"weight": _u(3, 4, seed=10)}))
    add(("l1", "l1_loss", [x, y], (0, 1), {}, {}))
    add(("l1_w", "l1_loss", [x, y], (0, 1), {}, {"weight": _u(3, 4, seed=10)}))
    add(("sl1", "smooth_l1_loss", [x, y], (0, 1), {}, {}))
    add(("sl1_b05", "smooth_l1_loss", [x, y], (0, 1), {"beta": 0.5}, {}))
    add(("sl1_b0", "smooth_l1_loss", [x, y], (0, 1), {"beta": 0.0}, {}))
    add(("huber", "huber_loss", [2 * x, y], (0, 1), {}, {}))
    add(("huber_d03", "huber_loss", [x, y], (0, 1), {"delta": 0.3}, {}))
    add(("huber_w", "huber_loss", [x, y], (0, 1), {"delta": 0.5}, {"weight": _u(3, 4, seed=10)}))
    add(("soft", "soft_margin_loss", [x, _pm1(3, 4)], (0,), {}, {}))
    add(("ce", "cross_entropy", [x, t], (0,), {}, {}))
    add(("ce_w", "cross_entropy", [x, t], (0,), {}, {"weight": w4}))
    add(("ce_ign", "cross_entropy", [_x(6, 4), _ign(_idx(6, 4))], (0,), {}, {}))
    add(("ce_ign1_w", "cross_entropy", [_x(6, 4), _idx(6, 4)], (0,), {"ignore_index": 1},
         {"weight": w4}))
    add(("ce_ls", "cross_entropy", [x, t], (0,), {"label_smoothing": 0.1}, {}))
    add(("ce_ls_w_ign", "cross_entropy", [_x(6, 4), _ign(_idx(6, 4))], (0,),
         {"label_smoothing": 0.2}, {"weight": w4}))
    add(("ce_3d", "cross_entropy", [_x(2, 4, 5), _idx(0, 4, shape=(2, 5))], (0,), {}, {}))
    add(("ce_4d_w", "cross_entropy", [_x(2, 4, 3, 2), _ign(_idx(0, 4, shape=(2, 3, 2)))], (0,),
         {}, {"weight": w4}))
    add(("ce_5d_ls", "cross_entropy", [_x(2, 4, 2, 2, 3), _idx(0, 4, shape=(2, 2, 2, 3))], (0,),
         {"label_smoothing": 0.3}, {}))
    add(("ce_1d", "cross_entropy", [_x(4), np.array(2)], (0,), {}, {}))
    add(("ce_prob", "cross_entropy", [x, prob], (0, 1), {}, {}))
    add(("ce_prob_w_ls", "cross_entropy", [x, prob], (0, 1), {"label_smoothing": 0.1},
         {"weight": w4}))
    add(("ce_prob_4d", "cross_entropy", [_x(2, 4, 3, 2), _u(2, 4, 3, 2)], (0, 1), {}, {}))
    add(("nll", "nll_loss", [logp, t], (0,), {}, {}))
    add(("nll_w_ign", "nll_loss", [_x(6, 4), _ign(_idx(6, 4))], (0,), {}, {"weight": w4}))
    add(("nll_4d", "nll_loss", [_x(2, 4, 3, 2), _idx(0, 4, shape=(2, 3, 2))], (0,), {}, {}))
    add(("nll_3d", "nll_loss", [_x(2, 4, 3), _idx(0, 4, shape=(2, 3))], (0,), {}, {}))
    add(("nll_u8", "nll_loss", [logp, t.astype(np.uint8)], (0,), {}, {}))
    add(("bce", "binary_cross_entropy", [p, q], (0, 1), {}, {}))
    add(("bce_w", "binary_cross_entropy", [p, q], (0, 1), {}, {"weight": w4}))
    add(("bce_edges", "binary_cross_entropy", [np.array([0.0, 1.0, 0.5, 1.0]),
                                               np.array([0.0, 1.0, 0.3, 0.0])], (), {}, {}))
    add(("bcel", "binary_cross_entropy_with_logits", [x, q], (0, 1), {}, {}))
    add(("bcel_w_pw", "binary_cross_entropy_with_logits", [x, q], (0, 1), {},
         {"weight": _u(3, 1, seed=11), "pos_weight": w4}))
    add(("kl", "kl_div", [logp, prob], (0, 1), {}, {}))
    add(("kl_lt", "kl_div", [logp, np.log(prob)], (0, 1), {"log_target": True}, {}))
    add(("pois", "poisson_nll_loss", [x, 3 * q], (0, 1), {}, {}))
    add(("pois_full", "poisson_nll_loss", [p + 0.5, 3 * q], (0, 1),
         {"log_input": False, "full": True}, {}))
    add(("gauss", "gaussian_nll_loss", [x, y, _u(3, 4, lo=0.1, hi=2)], (0, 1, 2), {}, {}))
    add(("gauss_full", "gaussian_nll_loss", [x, y, _u(3, lo=0.1, hi=2)], (0, 1, 2),
         {"full": True}, {}))
    add(("mrank", "margin_ranking_loss", [_x(5), _x(5, seed=1), _pm1(5)], (0, 1),
         {"margin": 0.2}, {}))
    add(("hinge", "hinge_embedding_loss", [x, _pm1(3, 4)], (0,), {"margin": 0.5}, {}))
    add(("cosemb", "cosine_embedding_loss", [x, y, _pm1(3)], (0, 1), {"margin": 0.1}, {}))
    add(("mmargin", "multi_margin_loss", [x, t], (0,), {}, {}))
    add(("mmargin_p2_w", "multi_margin_loss", [x, t], (0,), {"p": 2, "margin": 0.7},
         {"weight": w4}))
    add(("triplet", "triplet_margin_loss", [x, y, _x(3, 4, seed=12)], (0, 1, 2), {}, {}))
    add(("triplet_swap", "triplet_margin_loss", [x, y, _x(3, 4, seed=12)], (0, 1, 2),
         {"swap": True, "p": 1.0, "margin": 2.0}, {}))
    return cs


CASES = _cases()


def _run(lib, case, red, dtype):
    _, fn, arrays, gpos, kw, kwt = case
    dt = getattr(lib, dtype)
    ts = []
    for i, a in enumerate(arrays):
        if a.dtype.kind == "f":
            t = lib.tensor(a, dtype=dt)
            if i in gpos:
                t.requires_grad_(True)
        else:
            t = lib.tensor(a)
        ts.append(t)
    kw = dict(kw)
    kw.update({k: lib.tensor(v, dtype=dt) for k, v in kwt.items()})
    if red != "mean" or fn != "kl_div":
        kw["reduction"] = red
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(lib.nn.functional, fn)(*ts, **kw)
    name = out.grad_fn.name() if out.grad_fn is not None else None
    grads = []
    if gpos:
        gout = lib.tensor(_u(*tuple(out.shape), lo=0.5, hi=1.5, seed=13), dtype=out.dtype)
        out.backward(gout)
        grads = [ts[i].grad.detach().numpy() if ts[i].grad is not None else None for i in gpos]
    return out.detach().numpy(), str(out.dtype).split(".")[1], name, grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("red", REDS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, red, dtype):
    torch = _torch()
    eo, edt, ename, eg = _run(ember, case, red, dtype)
    to, tdt, tname, tg = _run(torch, case, red, dtype)
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)
    assert eo.shape == to.shape
    assert edt == tdt
    np.testing.assert_allclose(eo, to, **tol)
    assert ename == tname, (ename, tname)
    for a, b in zip(eg, tg, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, **tol)


def test_kl_div_batchmean_and_mean_warning():
    torch = _torch()
    a, b = np.log(_u(4, 5, lo=0.1)), _u(4, 5, seed=3)
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            lib.nn.functional.kl_div(x, lib.tensor(b))
    ex = ember.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    el = F.kl_div(ex, ember.tensor(b), reduction="batchmean")
    tl = torch.nn.functional.kl_div(tx, torch.tensor(b), reduction="batchmean")
    assert el.grad_fn.name() == tl.grad_fn.name() == "DivBackward0"
    el.backward()
    tl.backward()
    np.testing.assert_allclose(el.item(), tl.item(), rtol=1e-12)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_legacy_size_average_reduce():
    torch = _torch()
    a, b = _x(3, 4), _x(3, 4, seed=1)
    for sa, rd in [(False, None), (None, False), (True, True), (False, True)]:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            e = F.mse_loss(ember.tensor(a), ember.tensor(b), size_average=sa, reduce=rd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b), size_average=sa,
                                             reduce=rd)
            tm = torch.nn.CrossEntropyLoss(size_average=sa, reduce=rd)
            em = nn.CrossEntropyLoss(size_average=sa, reduce=rd)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
        assert em.reduction == tm.reduction


# ---------------------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", DTYPES)
def test_stable_at_extreme_logits(dtype):
    torch = _torch()
    big = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [1e4, 1e4, -1e4]])
    tgt = np.array([1, 1, 2])
    yb = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.5, 1.0]])
    for fn, args, kw in [
        ("cross_entropy", (big, tgt), {}),
        ("cross_entropy", (big, tgt), {"label_smoothing": 0.1}),
        ("cross_entropy", (big, yb / yb.sum(1, keepdims=True)), {}),
        ("binary_cross_entropy_with_logits", (big, yb), {}),
        ("binary_cross_entropy_with_logits", (big, yb), {"pos_weight": np.array([2.0, 0.5, 1])}),
        ("soft_margin_loss", (big, 2 * yb - 1), {}),
    ]:
        res = []
        for lib in (ember, torch):
            dt = getattr(lib, dtype)
            x = lib.tensor(args[0], dtype=dt, requires_grad=True)
            t = lib.tensor(args[1], dtype=dt) if args[1].dtype.kind == "f" else lib.tensor(
                args[1])
            k = {a: lib.tensor(v, dtype=dt) if isinstance(v, np.ndarray) else v
                 for a, v in kw.items()}
            out = getattr(lib.nn.functional, fn)(x, t, **k)
            out.backward()
            res.append((out.detach().numpy(), x.grad.numpy()))
        (eo, eg), (to, tg) = res
        assert np.isfinite(eo).all() and np.isfinite(eg).all(), fn
        if fn != "soft_margin_loss":  # torch's soft margin overflows to inf there; ember doesn't
            np.testing.assert_allclose(eo, to, rtol=1e-5)
            np.testing.assert_allclose(eg, tg, rtol=1e-5, atol=1e-7)


def test_bce_log_clamp_at_minus_100():
    out = F.binary_cross_entropy(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 0.0]),
                                 reduction="none")
    np.testing.assert_allclose(out.numpy(), [100.0, 100.0])


# ---------------------------------------------------------------------------- torch-free checks
def test_hand_values():
    x = ember.tensor([[1.0, 2.0], [3.0, -1.0]])
    y = ember.zeros(2, 2)
    assert F.mse_loss(x, y).item() == pytest.approx(15 / 4)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(7)
    assert F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.zeros(2),
                            reduction="sum").item() == pytest.approx(0.125 + 2.5)
    assert F.huber_loss(ember.tensor([0.5, 3.0]), ember.zeros(2), delta=2.0,
                        reduction="sum").item() == pytest.approx(0.125 + 2 * (3 - 1))
    ce = F.cross_entropy(ember.zeros(5, 7), ember.tensor([0, 1, 2, 3, 4]))
    assert ce.item() == pytest.approx(math.log(7))
    w = ember.tensor([1.0, 3.0])
    lp = ember.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    nll = F.nll_loss(lp, ember.tensor([0, 1]), weight=w)
    assert nll.item() == pytest.approx((1 * 1 + 3 * 4) / 4)
    ign = F.nll_loss(lp, ember.tensor([0, -100]))
    assert ign.item() == pytest.approx(1.0)
    with np.errstate(all="ignore"):
        assert math.isnan(F.cross_entropy(lp, ember.tensor([-100, -100])).item())
    bcel = F.binary_cross_entropy_with_logits(ember.tensor([0.0]), ember.tensor([1.0]))
    assert bcel.item() == pytest.approx(math.log(2))


@pytest.mark.parametrize("red", REDS)
def test_gradcheck_and_double_backward(red):
    x = ember.tensor(_x(3, 4), dtype=ember.float64, requires_grad=True)
    y = ember.tensor(_x(3, 4, seed=1), dtype=ember.float64, requires_grad=True)
    p = ember.tensor(_u(3, 4, lo=0.1, hi=0.9), dtype=ember.float64, requires_grad=True)
    q = ember.tensor(_u(3, 4, seed=2), dtype=ember.float64, requires_grad=True)
    t = ember.tensor(_idx(3, 4))
    w = ember.tensor(_u(4, lo=0.5, hi=2), dtype=ember.float64)
    fns = [
        (lambda a, b: F.mse_loss(a, b, reduction=red), (x, y)),
        (lambda a, b: F.smooth_l1_loss(a, b, beta=0.7, reduction=red), (x, y)),
        (lambda a, b: F.huber_loss(a, b, delta=0.6, reduction=red), (x, y)),
        (lambda a, b: F.binary_cross_entropy(a, b, reduction=red), (p, q)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=red, pos_weight=w,
                                                         weight=w), (x, q)),
        (lambda a: F.cross_entropy(a, t, weight=w, reduction=red), (x,)),
        (lambda a: F.cross_entropy(a, t, label_smoothing=0.2, reduction=red), (x,)),
        (lambda a: F.nll_loss(a, t, reduction=red), (x,)),
        (lambda a: F.soft_margin_loss(a, ember.tensor(_pm1(3, 4)), reduction=red), (x,)),
    ]
    for f, args in fns:
        assert gradcheck(f, args)
        assert gradgradcheck(f, args)
    assert gradcheck(lambda a: F.multi_margin_loss(a, t, p=2, reduction=red), (x,))


def test_double_backward_matches_torch():
    torch = _torch()
    a, b = _x(3, 4), _u(3, 4, lo=0.1, hi=0.9, seed=4)
    t = _idx(3, 4)
    for name in ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                 "cross_entropy", "huber_loss"]:
        res = []
        for lib in (ember, torch):
            xa = b if name == "binary_cross_entropy" else a
            x = lib.tensor(xa, requires_grad=True)
            y = lib.tensor(t) if name == "cross_entropy" else lib.tensor(b, requires_grad=True)
            out = getattr(lib.nn.functional, name)(x, y)
            (gx,) = lib.autograd.grad(out, (x,), create_graph=True)
            gg = lib.autograd.grad((gx * gx).sum(), (x,) if name == "cross_entropy" else (x, y))
            res.append([g.detach().numpy() for g in gg])
        for e, tr in zip(*res, strict=True):
            np.testing.assert_allclose(e, tr, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- modules
MODULES = [
    ("L1Loss", {}), ("MSELoss", {"reduction": "sum"}), ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2}), ("NLLLoss", {}),
    ("BCELoss", {}), ("BCEWithLogitsLoss", {}), ("KLDivLoss", {"reduction": "batchmean"}),
    ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 2.0}), ("SoftMarginLoss", {}),
    ("MultiMarginLoss", {"p": 2}), ("PoissonNLLLoss", {}), ("GaussianNLLLoss", {}),
    ("MarginRankingLoss", {"margin": 0.1}), ("HingeEmbeddingLoss", {}),
    ("CosineEmbeddingLoss", {}), ("TripletMarginLoss", {"swap": True}),
]


@pytest.mark.parametrize("name,kw", MODULES, ids=[m[0] for m in MODULES])
def test_module_repr_attrs(name, kw):
    torch = _torch()
    e, t = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(e) == repr(t)
    for k in ("reduction", "ignore_index", "label_smoothing", "beta", "delta", "p", "margin",
              "log_target", "swap", "eps", "full", "log_input"):
        assert getattr(e, k, None) == getattr(t, k, None), k
    assert list(e.state_dict()) == list(t.state_dict())


def test_module_weight_buffers_and_forward():
    torch = _torch()
    w = _u(4, lo=0.5, hi=2)
    a, tg = _x(5, 4), _idx(5, 4)
    for name, kw in [("CrossEntropyLoss", {"label_smoothing": 0.05}), ("NLLLoss", {}),
                     ("MultiMarginLoss", {})]:
        e = getattr(nn, name)(weight=ember.tensor(w), **kw)
        t = getattr(torch.nn, name)(weight=torch.tensor(w), **kw)
        assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
        ex, tx = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        eo, to = e(ex, ember.tensor(tg)), t(tx, torch.tensor(tg))
        eo.backward()
        to.backward()
        np.testing.assert_allclose(eo.item(), to.item(), rtol=1e-12)
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    e = nn.BCEWithLogitsLoss(weight=ember.tensor(w), pos_weight=ember.tensor(w))
    t = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(w))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "pos_weight"]
    q = _u(5, 4)
    np.testing.assert_allclose(e(ember.tensor(a), ember.tensor(q)).item(),
                               t(torch.tensor(a), torch.tensor(q)).item(), rtol=1e-12)
    e = nn.GaussianNLLLoss(full=True)
    t = torch.nn.GaussianNLLLoss(full=True)
    v = _u(5, 4, lo=0.1)
    np.testing.assert_allclose(e(ember.tensor(a), ember.tensor(q), ember.tensor(v)).item(),
                               t(torch.tensor(a), torch.tensor(q), torch.tensor(v)).item(),
                               rtol=1e-12)


def test_module_to_double_keeps_working():
    m = nn.CrossEntropyLoss(weight=ember.ones(3))
    m.double()
    assert m.weight.dtype == ember.float64
    out = m(ember.zeros(2, 3, dtype=ember.float64), ember.tensor([0, 2]))
    assert out.item() == pytest.approx(math.log(3))


# ---------------------------------------------------------------------------- bad input
def _same_error(call, match=None):
    torch = _torch()
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(type(te.value)) as ee:
        call(ember)
    first = str(te.value).split("\n")[0].replace("torch.", "ember.")
    assert str(ee.value).startswith(first.rstrip(".")), (str(ee.value), first)
    if match is not None:
        assert match in str(ee.value)
    return ee.value


ERRORS = [
    ("float_target", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4),
                                                              L.tensor([0.0, 1, 2]))),
    ("int32_target", lambda L: L.nn.functional.cross_entropy(
        L.zeros(3, 4), L.tensor([0, 1, 2], dtype=L.int32))),
    ("oob", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 10]))),
    ("oob_neg", lambda L: L.nn.functional.nll_loss(L.zeros(3, 4), L.tensor([0, -5, 1]))),
    ("batch", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4), L.tensor([0, 1]))),
    ("batch_3d", lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3, 4),
                                                          L.zeros(3, 4, dtype=L.int64))),
    ("multi_target", lambda L: L.nn.functional.nll_loss(L.zeros(2, 3),
                                                         L.zeros(2, 4, dtype=L.int64))),
    ("spatial_3d", lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3, 4),
                                                            L.zeros(2, 5, dtype=L.int64))),
    ("spatial_4d", lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3, 4, 5),
                                                            L.zeros(2, 4, 4, dtype=L.int64))),
    ("spatial_4d_dim", lambda L: L.nn.functional.cross_entropy(L.zeros(2, 3, 4, 5),
                                                                L.zeros(2, 4, dtype=L.int64))),
    ("weight_size", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                             weight=L.ones(3))),
    ("weight_dtype", lambda L: L.nn.functional.nll_loss(
        L.zeros(3, 4), L.tensor([0, 1, 2]), weight=L.ones(4, dtype=L.float64))),
    ("weight_grad", lambda L: L.nn.functional.nll_loss(
        L.zeros(3, 4, requires_grad=True), L.tensor([0, 1, 2]),
        weight=L.ones(4, requires_grad=True))),
    ("nll_0d", lambda L: L.nn.functional.nll_loss(L.tensor(1.0), L.tensor(0))),
    ("prob_long", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4),
                                                           L.ones(3, 4, dtype=L.int64))),
    ("prob_ignore", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4), L.ones(3, 4),
                                                             ignore_index=1)),
    ("ls_range", lambda L: L.nn.functional.cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                          label_smoothing=1.5)),
    ("reduction", lambda L: L.nn.functional.mse_loss(L.zeros(3), L.zeros(3), reduction="avg")),
    ("reduction_ce", lambda L: L.nn.CrossEntropyLoss(reduction="avg")(L.zeros(3, 4),
                                                                      L.tensor([0, 1, 2]))),
    ("mse_bcast", lambda L: L.nn.functional.mse_loss(L.zeros(3, 4), L.zeros(5))),
    ("mse_long", lambda L: L.nn.functional.mse_loss(L.ones(3, dtype=L.int64),
                                                     L.ones(3, dtype=L.int64))),
    ("bce_range", lambda L: L.nn.functional.binary_cross_entropy(L.tensor([0.5, 1.5]),
                                                                  L.tensor([0.0, 1.0]))),
    ("bce_shape", lambda L: L.nn.functional.binary_cross_entropy(L.rand(3, 4), L.rand(3))),
    ("bce_long", lambda L: L.nn.functional.binary_cross_entropy(L.rand(3),
                                                                 L.ones(3, dtype=L.int64))),
    ("bce_f64_target", lambda L: L.nn.functional.binary_cross_entropy(
        L.rand(3), L.rand(3, dtype=L.float64))),
    ("bcel_shape", lambda L: L.nn.functional.binary_cross_entropy_with_logits(L.zeros(3, 4),
                                                                               L.zeros(3))),
    ("bcel_long", lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        L.zeros(3), L.ones(3, dtype=L.int64))),
    ("bcel_pw", lambda L: L.nn.functional.binary_cross_entropy_with_logits(
        L.zeros(3, 4), L.zeros(3, 4), pos_weight=L.ones(3))),
    ("kl_int", lambda L: L.nn.functional.kl_div(L.zeros(3), L.ones(3, dtype=L.int64),
                                                reduction="sum")),
    ("sl1_beta", lambda L: L.nn.functional.smooth_l1_loss(L.zeros(3), L.zeros(3), beta=-1.0)),
    ("huber_delta", lambda L: L.nn.functional.huber_loss(L.zeros(3), L.zeros(3), delta=0.0)),
    ("mm_range", lambda L: L.nn.functional.multi_margin_loss(L.zeros(3, 4),
                                                              L.tensor([0, 1, 7]))),
    ("mm_p", lambda L: L.nn.functional.multi_margin_loss(L.zeros(3, 4), L.tensor([0, 1, 2]),
                                                          p=3)),
    ("triplet_margin", lambda L: L.nn.functional.triplet_margin_loss(
        L.zeros(2, 3), L.zeros(2, 3), L.zeros(2, 3), margin=0.0)),
    ("gauss_neg", lambda L: L.nn.functional.gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3),
                                                               -L.ones(2, 3))),
]


@pytest.mark.parametrize("call", [e[1] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_like_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(call)


def test_error_hints_name_loss_and_shapes():
    with pytest.raises(IndexError, match="Target 10 is out of bounds") as e:
        F.cross_entropy(ember.zeros(3, 4), ember.tensor([0, 1, 10]))
    assert "Hint" in str(e.value) and "cross_entropy" in str(e.value) and "[3, 4]" in str(e.value)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\)") as e:
        nn.NLLLoss()(ember.zeros(3, 4), ember.tensor([0, 1]))
    assert "Hint" in str(e.value) and "nll_loss" in str(e.value)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.BCELoss()(ember.tensor([2.0]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte") as e:
        F.cross_entropy(ember.zeros(3, 4), ember.tensor([0.0, 1, 2]))
    assert "target.long()" in str(e.value)


@pytest.mark.parametrize(
    "fn,tdtype",
    [("mse_loss", "float64"), ("mse_loss", "int64"), ("smooth_l1_loss", "float64"),
     ("binary_cross_entropy_with_logits", "float64"),
     ("l1_loss", "float64")],
)
def test_mixed_dtypes(fn, tdtype):
    torch = _torch()
    a, b = _x(3, 4), np.round(_x(3, 4, seed=1) * 2)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(a, dtype=lib.float32, requires_grad=True)
        y = lib.tensor(b, dtype=getattr(lib, tdtype))
        if tdtype == "float64":
            y.requires_grad_(True)
        out = getattr(lib.nn.functional, fn)(x, y)
        out.backward()
        gy = y.grad.numpy() if y.grad is not None else None
        res.append((out.detach().numpy(), str(out.dtype), x.grad.numpy(), x.grad.dtype, gy))
    (eo, edt, egx, egxd, egy), (to, tdt, tgx, tgxd, tgy) = res
    assert edt.split(".")[1] == tdt.split(".")[1]
    np.testing.assert_allclose(eo, to, rtol=1e-6)
    np.testing.assert_allclose(egx, tgx, rtol=1e-5, atol=1e-7)
    assert str(egxd).split(".")[1] == str(tgxd).split(".")[1]
    if tgy is not None:
        np.testing.assert_allclose(egy, tgy, rtol=1e-5, atol=1e-7)
