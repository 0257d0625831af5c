"""Normalisation layers and functionals: batch/layer/group/instance/RMS norm and LRN.

Torch-free checks (hand-computed values, float64 finite differences, errors, bookkeeping) always
run; comparisons with torch (outputs, all gradients, running statistics, repr, state_dict keys)
skip when torch is missing.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

_NO_TORCH = "torch is the correctness oracle for these comparisons"


def _torch():
    return pytest.importorskip("torch", reason=_NO_TORCH)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ torch-free checks
def test_batch_norm_hand_computed_and_running_stats():
    x = ember.tensor([[1.0, 10.0], [3.0, 14.0]])
    bn = nn.BatchNorm1d(2)
    y = bn(x)
    inv = 1 / np.sqrt(1 + 1e-5)  # batch variance of (1, 3) is 1 (biased)
    inv2 = 1 / np.sqrt(4 + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), [[-inv, -2 * inv2], [inv, 2 * inv2]], rtol=1e-6)
    # running stats: momentum 0.1, unbiased variance (2 and 8)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.2, 1.2], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.2, 0.9 + 0.8], rtol=1e-6)
    assert bn.num_batches_tracked.dtype == ember.int64 and bn.num_batches_tracked.dim() == 0
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y = bn(x)  # (x - running_mean) / sqrt(running_var + eps)
    exp = (x.numpy() - [0.2, 1.2]) / np.sqrt(np.array([1.1, 1.7]) + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), exp, rtol=1e-6)
    assert int(bn.num_batches_tracked) == 1


def test_batch_norm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    means = []
    for v in ([1.0, 3.0], [5.0, 7.0], [0.0, 0.0]):
        bn(ember.tensor(v).reshape(2, 1))
        means.append(np.mean(v))
    np.testing.assert_allclose(bn.running_mean.numpy(), [np.mean(means)], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [(2 + 2 + 0) / 3], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 3


def test_batch_norm_state_dict_repr_and_flags():
    bn = nn.BatchNorm2d(6)
    assert repr(bn) == (
        "BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(6, np.float32))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(6, np.float32))
    nb = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert nb.weight is None and nb.running_mean is None and nb.num_batches_tracked is None
    assert list(nb.state_dict()) == []
    x = ember.randn(5, 3)
    nb.eval()  # no running stats: batch statistics even in eval mode
    y = nb(x).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)
    assert (
        nn.BatchNorm3d(2).double()(ember.randn(2, 2, 2, 2, 2, dtype=ember.float64)).dtype
        == ember.float64
    )


def test_norm_reprs_and_keys():
    assert (
        repr(nn.LayerNorm(10)) == "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"
    )
    assert list(nn.LayerNorm((2, 3), bias=False).state_dict()) == ["weight"]
    assert nn.LayerNorm((2, 3)).weight.shape == (2, 3)
    assert repr(nn.GroupNorm(2, 6)) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.InstanceNorm2d(3)) == (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, "
        "affine=False, bias=False, track_running_stats=False)"
    )
    assert repr(nn.RMSNorm([2, 3])) == "RMSNorm((2, 3), eps=None, elementwise_affine=True)"
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    assert list(nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


def test_layer_norm_hand_computed():
    x = ember.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=ember.float64)
    y = F.layer_norm(x, 4, eps=0.0)
    np.testing.assert_allclose(y.numpy()[0], (np.arange(1, 5) - 2.5) / np.sqrt(1.25), rtol=1e-12)
    y = F.group_norm(x.reshape(1, 2, 2), 2, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), [-1, 1, -1, 1], rtol=1e-12)


def _t(rng, *shape):
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training):
    rng = _rng(1)
    x, w, b = _t(rng, 4, 3, 5), _t(rng, 3), _t(rng, 3)
    rm = ember.tensor(rng.standard_normal(3))
    rv = ember.tensor(rng.random(3) + 0.5)

    def f(x, w, b):
        return F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=training)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_layer_group_instance_norm_gradcheck():
    rng = _rng(2)
    x, w, b = _t(rng, 3, 2, 4), _t(rng, 2, 4), _t(rng, 2, 4)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    x, w, b = _t(rng, 2, 6, 3), _t(rng, 6), _t(rng, 6)
    assert gradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.group_norm(x, 3, w, b), (x, w, b))
    assert gradcheck(lambda x: F.group_norm(x, 2), (x,))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    x, w = _t(rng, 3, 4), _t(rng, 4)
    assert gradcheck(lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6), (x, w))
    x = _t(rng, 2, 5, 3)
    assert gradcheck(lambda x: F.local_response_norm(x, 3, alpha=0.5), (x,))


def test_errors_and_nothing_changed():
    bn = nn.BatchNorm1d(6)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 6"):
        bn(ember.randn(4, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(ember.randn(2, 6, 3, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(ember.randn(2, 3))
    assert int(bn.num_batches_tracked) == 0  # failed calls count nothing
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(6))
    nn.BatchNorm1d(3).eval()(ember.randn(1, 3))  # eval with one sample is fine
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(ember.randn(4, 3), None, None)
    with pytest.raises(
        RuntimeError,
        match=r"Given normalized_shape=\[10\], expected input with "
        r"shape \[\*, 10\], but got input of size\[3, 5\]",
    ):
        nn.LayerNorm(10)(ember.randn(3, 5))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        F.layer_norm(ember.randn(3, 5), (5,), weight=ember.ones(4))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible"):
        nn.GroupNorm(3, 6)(ember.randn(2, 4, 5))
    with pytest.raises(RuntimeError, match="mixed dtype"):
        nn.LayerNorm(3)(ember.randn(2, 3, dtype=ember.float64))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.batch_norm(ember.ones(4, 3, dtype=ember.int64), None, None, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        F.instance_norm(ember.randn(2, 3, 1))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(ember.randn(2, 3), 2)


def test_output_not_aliasing_saved_values():
    x = ember.tensor(_rng(5).standard_normal((4, 3)), requires_grad=True)
    gy = ember.arange(12.0, dtype=ember.float64).reshape(4, 3)
    F.batch_norm(x, None, None, training=True).backward(gy)
    expected = x.grad.numpy().copy()
    x.grad = None
    y = F.batch_norm(x, None, None, training=True)
    y2 = y + 1  # AddBackward saves nothing, so zeroing y's memory is not detected ...
    y.detach().zero_()  # ... and must not corrupt what batch norm's backward uses
    y2.backward(gy)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


# ------------------------------------------------------------------ torch comparisons
def _copy(e_mod, t_mod):
    e_mod.load_state_dict(
        {k: ember.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()}
    )


def _perturb(t_mod, torch, rng):
    with torch.no_grad():
        for p in t_mod.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape))))


CASES = [
    ("BatchNorm1d", (3,), {}, (6, 3)),
    ("BatchNorm1d", (3,), {}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"affine": False}, (5, 3)),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, (5, 3)),
    ("BatchNorm2d", (4,), {}, (3, 4, 5, 5)),
    ("BatchNorm2d", (4,), {"momentum": 0.3, "eps": 1e-3, "bias": False}, (2, 4, 3, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 3, 2)),
    ("LayerNorm", (5,), {}, (4, 5)),
    ("LayerNorm", ((3, 4),), {}, (2, 5, 3, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (3, 4)),
    ("LayerNorm", (4,), {"bias": False}, (3, 2, 4)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4, 4)),
    ("GroupNorm", (3, 3), {"affine": False}, (4, 3, 5)),
    ("GroupNorm", (1, 4), {}, (2, 4)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 6)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 4, 4)),
    ("InstanceNorm2d", (3,), {"affine": True}, (3, 4, 4)),
    ("RMSNorm", (4,), {}, (3, 4)),
    ("RMSNorm", ((2, 4),), {"eps": 1e-3}, (3, 2, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.1}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), {}, (2, 4, 3, 3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("name", "args", "kw", "shape"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_module_matches_torch(name, args, kw, shape, dtype):
    torch = _torch()
    rng = _rng(3)
    t_mod = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, dtype))
    _perturb(t_mod, torch, rng)
    e_mod = getattr(nn, name)(*args, **kw).to(getattr(ember, dtype))
    _copy(e_mod, t_mod)
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-11}
    for mode in ("train", "train", "train", "eval"):
        t_mod.train(mode == "train")
        e_mod.train(mode == "train")
        x = rng.standard_normal(shape).astype(dtype) * 2 + 0.5
        g = rng.standard_normal(shape).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        ex = ember.tensor(x, requires_grad=True)
        to, eo = t_mod(tx), e_mod(ex)
        assert eo.dtype == getattr(ember, dtype)
        assert eo.grad_fn.name() == to.grad_fn.name()
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), **tol)
        to.backward(torch.tensor(g))
        eo.backward(ember.tensor(g))
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), **tol)
        for (n, ep), (_, tp) in zip(
            e_mod.named_parameters(), t_mod.named_parameters(), strict=True
        ):
            np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), err_msg=n, **tol)
            ep.grad = None
            tp.grad = None
        for (n, eb), (_, tb) in zip(e_mod.named_buffers(), t_mod.named_buffers(), strict=True):
            assert eb.dtype == getattr(ember, str(tb.dtype).split(".")[1]), n
            np.testing.assert_allclose(eb.numpy(), tb.numpy(), err_msg=n, **tol)


@pytest.mark.parametrize("fn", ["batch_norm", "layer_norm", "group_norm"])
def test_double_backward_matches_torch(fn):
    torch = _torch()
    rng = _rng(4)
    x = rng.standard_normal((4, 6, 3))
    w, b = rng.standard_normal(6), rng.standard_normal(6)
    if fn == "layer_norm":
        w, b = rng.standard_normal(3), rng.standard_normal(3)

    def run(lib, F_):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        bt = lib.tensor(b, requires_grad=True)
        if fn == "batch_norm":
            y = F_.batch_norm(xt, None, None, wt, bt, training=True)
        elif fn == "layer_norm":
            y = F_.layer_norm(xt, (3,), wt, bt)
        else:
            y = F_.group_norm(xt, 2, wt, bt)
        gx, gw = lib.autograd.grad((y * y.detach().sin()).sum(), (xt, wt), create_graph=True)
        (gx.pow(2).sum() + (gw * gw).sum()).backward()
        return xt.grad.numpy(), wt.grad.numpy(), bt.grad

    ex, ew, eb = run(ember, F)
    tx, tw, tb = run(torch, torch.nn.functional)
    np.testing.assert_allclose(ex, tx, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ew, tw, rtol=1e-9, atol=1e-11)
    assert (eb is None) == (tb is None)


def test_functional_errors_match_torch():
    torch = _torch()

    def msg(fn, lib):
        with pytest.raises(Exception) as ei:
            fn(lib)
        return type(ei.value).__name__, str(ei.value)

    cases = [
        lambda L: L.nn.BatchNorm1d(6)(L.randn(4, 3)),
        lambda L: L.nn.BatchNorm1d(3)(L.randn(2, 3, 4, 5)),
        lambda L: L.nn.BatchNorm1d(3)(L.randn(1, 3)),
        lambda L: L.nn.BatchNorm2d(3)(L.randn(1, 3, 1, 1)),
        lambda L: L.nn.functional.batch_norm(
            L.randn(4, 6), L.zeros(6), L.ones(6), weight=L.ones(3)
        ),
        lambda L: L.nn.functional.batch_norm(L.randn(4, 6), L.zeros(6), L.ones(3)),
        lambda L: L.nn.LayerNorm((2, 5))(L.randn(3, 5)),
        lambda L: L.nn.functional.group_norm(L.randn(2, 6, 4), 3, weight=L.ones(4)),
        lambda L: L.nn.functional.group_norm(L.randn(6), 3),
        lambda L: L.nn.functional.rms_norm(L.randn(2, 3, 4), (3,)),
        lambda L: L.nn.InstanceNorm1d(3, affine=True)(L.randn(2, 4, 5)),
        lambda L: L.nn.functional.layer_norm(L.ones(3, 4, dtype=L.int32), (4,)),
    ]
    for c in cases:
        ecls, emsg = msg(c, ember)
        tcls, tmsg = msg(c, torch)
        assert ecls == tcls, (emsg, tmsg)
        first = tmsg.split(". ")[0].replace("torch.Size", "ember.Size")
        assert emsg.startswith(first), (emsg, tmsg)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_grad_inference_matches_torch(dtype):
    """Without autograd the layers take fused inference paths; values must not change."""
    torch = _torch()
    rng = _rng(6)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    for name, args, kw, shape in CASES:
        t_mod = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, dtype))
        _perturb(t_mod, torch, rng)
        e_mod = getattr(nn, name)(*args, **kw).to(getattr(ember, dtype))
        _copy(e_mod, t_mod)
        for training in (True, False):
            t_mod.train(training)
            e_mod.train(training)
            x = rng.standard_normal(shape).astype(dtype) * 3 - 1
            with torch.no_grad():
                to = t_mod(torch.tensor(x))
            with ember.no_grad():
                eo = e_mod(ember.tensor(x))
            assert eo.grad_fn is None
            np.testing.assert_allclose(eo.numpy(), to.numpy(), err_msg=name, **tol)
        for (n, eb), (_, tb) in zip(e_mod.named_buffers(), t_mod.named_buffers(), strict=True):
            np.testing.assert_allclose(eb.numpy(), tb.numpy(), err_msg=n, **tol)


def test_instance_norm_no_batch_dim_and_repeated_running_stats():
    torch = _torch()
    rng = _rng(7)
    x = rng.standard_normal((4, 3, 5))
    t_mod = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True).double()
    e_mod = nn.InstanceNorm1d(3, affine=True, track_running_stats=True).double()
    _perturb(t_mod, torch, rng)
    _copy(e_mod, t_mod)
    for _ in range(2):
        np.testing.assert_allclose(
            e_mod(ember.tensor(x)).detach().numpy(),
            t_mod(torch.tensor(x)).detach().numpy(),
            rtol=1e-12,
        )
        np.testing.assert_allclose(e_mod.running_var.numpy(), t_mod.running_var.numpy(), rtol=1e-12)
    e_mod.eval()
    t_mod.eval()
    np.testing.assert_allclose(
        e_mod(ember.tensor(x[0])).detach().numpy(),
        t_mod(torch.tensor(x[0])).detach().numpy(),
        rtol=1e-12,
    )
