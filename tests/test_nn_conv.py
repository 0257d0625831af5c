"""Convolution and pooling: functional ops and layers vs torch, plus torch-free checks."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as F

RNG = np.random.default_rng(1234)


def _torch():
    return pytest.importorskip("torch", reason="torch is the reference for these comparisons")


def _close(a, b, dt):
    tol = dict(rtol=1e-9, atol=1e-10) if dt == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(a, b, **tol)


# ------------------------------------------------------------------------- torch-free checks
def test_conv2d_hand_computed():
    x = ember.arange(16.0).reshape(1, 1, 4, 4)
    w = ember.ones(1, 1, 2, 2)
    out = F.conv2d(x, w, ember.tensor([1.0]))
    assert out.tolist() == [[[[11.0, 15.0, 19.0], [27.0, 31.0, 35.0], [43.0, 47.0, 51.0]]]]
    out = F.conv2d(x, w, stride=2, padding=1)
    assert out.tolist() == [[[[0.0, 3.0, 3.0], [12.0, 30.0, 18.0], [12.0, 27.0, 15.0]]]]


def test_pool_hand_computed():
    x = ember.tensor([[[1.0, 3, 3, 1], [3, 3, 0, 0], [2, 2, 2, 2], [2, 2, 2, 2]]],
                     requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert out.tolist() == [[[3.0, 3.0], [2.0, 2.0]]]
    assert idx.tolist() == [[[1, 2], [8, 10]]]  # ties: the first maximum in the window
    out.sum().backward()
    assert x.grad.tolist() == [[[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]]
    assert F.avg_pool2d(x, 2).tolist() == [[[2.5, 1.0], [2.0, 2.0]]]
    assert F.adaptive_avg_pool2d(x, 1).tolist() == [[[1.875]]]


@pytest.mark.parametrize("fn, xs, ws, kw", [
    (F.conv2d, (2, 4, 6, 5), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2),
                                                 groups=2)),
    (F.conv2d, (2, 3, 5, 5), (2, 3, 2, 2), dict(padding="same")),
    (F.conv1d, (2, 3, 7), (4, 3, 3), dict(stride=2, padding=1)),
    (F.conv_transpose2d, (2, 4, 3, 4), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1,
                                                          groups=2)),
    (F.conv_transpose1d, (2, 4, 5), (4, 3, 3), dict(stride=3, dilation=2)),
])
def test_conv_gradcheck(fn, xs, ws, kw):
    x = ember.tensor(RNG.standard_normal(xs), requires_grad=True)
    w = ember.tensor(RNG.standard_normal(ws), requires_grad=True)
    nout = ws[1] * kw.get("groups", 1) if "transpose" in fn.__name__ else ws[0]
    b = ember.tensor(RNG.standard_normal(nout), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("fn, args", [
    (F.max_pool2d, (3, 2, 1)), (F.avg_pool2d, (3, 2, 1, True, False)),
    (F.adaptive_avg_pool2d, ((3, 2),)), (F.adaptive_max_pool2d, ((2, 3),)),
    (F.max_pool1d, (2,)), (F.avg_pool1d, (3, 2, 1)),
])
def test_pool_gradcheck(fn, args):
    shape = (2, 3, 7) if fn in (F.max_pool1d, F.avg_pool1d) else (2, 2, 7, 6)
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x: fn(x, *args), (x,))
    assert ember.autograd.gradgradcheck(lambda x: fn(x, *args), (x,))


def test_errors_name_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[6, 1, 5, 5\], "
                       r"expected input\[32, 3, 28, 28\] to have 1 channels, but got 3 channels"):
        enn.Conv2d(1, 6, 5)(ember.zeros(32, 3, 28, 28))
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to "
                       r"conv2d, but got input of size: \[28, 28\]"):
        F.conv2d(ember.zeros(28, 28), ember.zeros(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"Kernel size can't be greater than actual input size"):
        F.conv2d(ember.zeros(1, 1, 3, 3), ember.zeros(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match="expected scalar type Double but found Float"):
        F.conv2d(ember.zeros(1, 1, 6, 6), ember.zeros(6, 1, 5, 5, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 6 elements"):
        F.conv2d(ember.zeros(1, 1, 6, 6), ember.zeros(6, 1, 5, 5), ember.zeros(5))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv2d(ember.zeros(1, 1, 6, 6), ember.zeros(6, 1, 5, 5), stride=2, padding="same")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        enn.Conv2d(4, 6, 5, groups=3)
    with pytest.raises(RuntimeError, match=r"Output size is too small \(in MaxPool2d"):
        enn.MaxPool2d(5)(ember.zeros(1, 3, 3))
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(ember.zeros(1, 1, 4, 4), 2, padding=2)
    x = ember.zeros(1, 1, 4, 4)
    w = ember.zeros(6, 1, 5, 5)
    with pytest.raises(RuntimeError):
        F.conv2d(x, w)
    assert x.shape == (1, 1, 4, 4)  # nothing changed by a failed call


def test_reprs_and_init_without_torch():
    assert repr(enn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(enn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                      "ceil_mode=False)")
    m = enn.Conv2d(3, 64, 3)
    bound = 1 / np.sqrt(27)
    assert m.weight.shape == (64, 3, 3, 3) and m.bias.shape == (64,)
    assert 0.9 * bound < m.weight.abs().max().item() <= bound
    assert 0.9 * bound < m.bias.abs().max().item() <= bound
    t = enn.ConvTranspose2d(4, 6, 3, groups=2)
    assert t.weight.shape == (4, 3, 3, 3)
    assert t.weight.abs().max().item() <= 1 / np.sqrt(27)
    assert list(m.state_dict()) == ["weight", "bias"]


def test_grad_fn_names():
    x = ember.randn(2, 3, 8, 8, requires_grad=True)
    assert F.conv2d(x, ember.randn(4, 3, 3, 3)).grad_fn.name() == "ConvolutionBackward0"
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert F.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"
    assert F.adaptive_avg_pool2d(x, 3).grad_fn.name() == "AdaptiveAvgPool2DBackward0"


# ------------------------------------------------------------------------- against torch
CONV_CASES = [
    ("conv2d", (2, 3, 9, 9), (4, 3, 3, 3), {}),
    ("conv2d", (2, 3, 9, 8), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ("conv2d", (2, 4, 9, 10), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1),
                                                  groups=2)),
    ("conv2d", (2, 4, 9, 10), (4, 1, 4, 2), dict(padding="same", groups=4)),
    ("conv2d", (2, 4, 9, 10), (6, 4, 3, 3), dict(padding="valid", dilation=2)),
    ("conv2d", (3, 9, 10), (4, 3, 3, 2), dict(padding=1)),
    ("conv1d", (2, 4, 11), (6, 2, 3), dict(stride=2, padding=1, groups=2)),
    ("conv1d", (2, 4, 11), (6, 4, 4), dict(padding="same", dilation=2)),
    ("conv1d", (4, 11), (6, 4, 3), {}),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0),
                                                          output_padding=(1, 2), dilation=(1, 2),
                                                          groups=2)),
    ("conv_transpose2d", (4, 5, 6), (4, 3, 3, 3), dict(stride=2)),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1,
                                                    groups=2)),
]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("name, xs, ws, kw", CONV_CASES)
def test_conv_vs_torch(name, xs, ws, kw, dt):
    torch = _torch()
    x = RNG.standard_normal(xs).astype(dt)
    w = RNG.standard_normal(ws).astype(dt)
    nout = ws[1] * kw.get("groups", 1) if "transpose" in name else ws[0]
    b = RNG.standard_normal(nout).astype(dt)
    g = None
    res = []
    for lib, fn in ((ember, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        X, W, B = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        out = fn(X, W, B, **kw)
        if g is None:
            g = RNG.standard_normal(tuple(out.shape)).astype(dt)
        out.backward(lib.tensor(g))
        res.append((out.detach().numpy(), X.grad.numpy(), W.grad.numpy(), B.grad.numpy(),
                    out.grad_fn.name(), str(out.dtype).split(".")[-1]))
    for a, t in zip(res[0][:4], res[1][:4], strict=True):
        assert a.shape == t.shape
        _close(a, t, dt)
    assert res[0][4:] == res[1][4:]


@pytest.mark.parametrize("name, xs, ws, kw", [CONV_CASES[2], CONV_CASES[6], CONV_CASES[10]])
def test_conv_double_backward_vs_torch(name, xs, ws, kw):
    torch = _torch()
    x = RNG.standard_normal(xs)
    w = RNG.standard_normal(ws)
    res = []
    for lib, fn in ((ember, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        X, W = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        gx, gw = lib.autograd.grad((fn(X, W, **kw) ** 2).sum(), (X, W), create_graph=True)
        ((gx ** 2).sum() + (gw ** 3).sum()).backward()
        res.append([gx.detach().numpy(), gw.detach().numpy(), X.grad.numpy(), W.grad.numpy()])
    for a, t in zip(*res, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-8, atol=1e-8)


POOL_CASES = [
    ("max_pool2d", (2, 3, 8, 8), (2,), {}),
    ("max_pool2d", (2, 3, 9, 8), (3, 1, 1), dict(return_indices=True)),
    ("max_pool2d", (2, 3, 9, 8), ((3, 2), (2, 1), (1, 1), (1, 2)), dict(ceil_mode=True,
                                                                       return_indices=True)),
    ("max_pool2d", (3, 9, 8), (3, 2, 1), dict(ceil_mode=True, return_indices=True)),
    ("max_pool2d", (2, 3, 7, 7), (2,), dict(ceil_mode=True)),
    ("max_pool1d", (2, 3, 9), (2,), {}),
    ("max_pool1d", (3, 9), (3, 2, 1, 2), dict(ceil_mode=True, return_indices=True)),
    ("avg_pool2d", (2, 3, 8, 8), (2,), {}),
    ("avg_pool2d", (2, 3, 9, 8), (3, 2, 1), dict(ceil_mode=True)),
    ("avg_pool2d", (2, 3, 9, 8), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (3, 9, 8), ((3, 2), (2, 1), (1, 0)), dict(divisor_override=5)),
    ("avg_pool1d", (2, 3, 9), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg_pool2d", (2, 3, 9, 8), ((4, 3),), {}),
    ("adaptive_avg_pool2d", (2, 3, 9, 8), (1,), {}),
    ("adaptive_avg_pool2d", (3, 9, 8), ((None, 5),), {}),
    ("adaptive_avg_pool1d", (2, 3, 9), (4,), {}),
    ("adaptive_max_pool2d", (2, 3, 9, 8), ((4, 3),), dict(return_indices=True)),
    ("adaptive_max_pool1d", (2, 3, 9), (4,), {}),
]


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("name, xs, args, kw", POOL_CASES)
def test_pool_vs_torch(name, xs, args, kw, ties, dt):
    torch = _torch()
    x = RNG.standard_normal(xs).astype(dt)
    if ties:  # many equal values (and whole windows of zeros, as after a ReLU)
        x = np.maximum(np.round(x * 2) / 2, 0).astype(dt)
    g = RNG.standard_normal(1000).astype(dt)
    res = []
    for lib, fn in ((ember, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        X = lib.tensor(x, requires_grad=True)
        out = fn(X, *args, **kw)
        idx = None
        if isinstance(out, tuple):
            out, idx = out[0], out[1].numpy()
        out.backward(lib.tensor(g[:out.numel()].reshape(tuple(out.shape))))
        res.append((out.detach().numpy(), X.grad.numpy(), idx, out.grad_fn.name()))
    _close(res[0][0], res[1][0], dt)
    _close(res[0][1], res[1][1], dt)
    if res[1][2] is not None:
        np.testing.assert_array_equal(res[0][2], res[1][2])
        assert res[0][2].dtype == np.int64
    assert res[0][3] == res[1][3]


def test_max_pool_nan_like_torch():
    torch = _torch()
    x = np.array([[[1.0, np.nan, 3, np.nan, 5, 2, 7, 1, 0]]])
    res = []
    for lib in (ember, torch):
        X = lib.tensor(x, requires_grad=True)
        out, idx = lib.nn.functional.max_pool1d(X, 3, return_indices=True)
        out.sum().backward()
        res.append((out.detach().numpy(), idx.numpy(), X.grad.numpy()))
    for a, t in zip(*res, strict=True):
        np.testing.assert_array_equal(a, t)


@pytest.mark.parametrize("name, args, kw, xs", [
    ("Conv2d", (1, 6, 5), {}, (4, 1, 12, 12)),
    ("Conv2d", (3, 6, (3, 5)), dict(stride=2, padding=1, dilation=2, groups=3, bias=False),
     (2, 3, 11, 13)),
    ("Conv2d", (4, 4, 3), dict(padding=2, padding_mode="reflect"), (2, 4, 7, 7)),
    ("Conv2d", (4, 4, 3), dict(padding=1, padding_mode="replicate"), (2, 4, 7, 7)),
    ("Conv2d", (4, 4, 4), dict(padding="same", padding_mode="circular"), (2, 4, 7, 7)),
    ("Conv2d", (1, 6, 4), dict(padding="same"), (3, 1, 8, 8)),
    ("Conv1d", (4, 6, 3), dict(padding="same", padding_mode="circular"), (2, 4, 9)),
    ("Conv1d", (1, 6, 5), dict(stride=2), (9, 1, 20)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, output_padding=1), (2, 4, 5, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, groups=2), (2, 4, 5)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3, 1, 1), dict(ceil_mode=True), (2, 3, 8, 8)),
    ("MaxPool1d", (2,), {}, (2, 3, 8)),
    ("AvgPool2d", (3, 2, 1, True, False), {}, (2, 3, 8, 8)),
    ("AvgPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((5, 7),), {}, (2, 3, 9, 10)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 9, 10)),
    ("AdaptiveMaxPool2d", (3,), {}, (2, 3, 9, 10)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 10)),
])
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_modules_vs_torch(name, args, kw, xs, dt):
    torch = _torch()
    t = getattr(torch.nn, name)(*args, **kw)
    e = getattr(enn, name)(*args, **kw)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for p in t.parameters():
        assert p.dtype == torch.float32
    if dt == np.float64:
        t.double()
        e.double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = RNG.standard_normal(xs).astype(dt)
    X, TX = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = e(X), t(TX)
    assert tuple(out.shape) == tuple(tout.shape)
    _close(out.detach().numpy(), tout.detach().numpy(), dt)
    g = RNG.standard_normal(tuple(tout.shape)).astype(dt)
    out.backward(ember.tensor(g))
    tout.backward(torch.tensor(g))
    _close(X.grad.numpy(), TX.grad.numpy(), dt)
    for (k, p), (_, tp) in zip(e.named_parameters(), t.named_parameters(), strict=True):
        assert p.grad.dtype == ember.float64 if dt == np.float64 else ember.float32, k
        _close(p.grad.numpy(), tp.grad.numpy(), dt)


def test_conv_transpose_output_size_vs_torch():
    torch = _torch()
    t = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    e = enn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)
    out = e(ember.tensor(x), output_size=[8, 8])
    ref = t(torch.tensor(x), output_size=[8, 8])
    assert tuple(out.shape) == (1, 2, 8, 8)
    _close(out.detach().numpy(), ref.detach().numpy(), np.float32)
    with pytest.raises(ValueError, match="requested an output size of"):
        e(ember.tensor(x), output_size=[10, 10])


def test_lenet_training_matches_torch():
    """A few SGD steps of a small CNN reach the same losses as torch from the same weights."""
    torch = _torch()

    def build(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3), nn.ReLU(), nn.AvgPool2d(2),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))

    pytest.importorskip("ember.nn", reason="needs nn layers")
    if not all(hasattr(enn, n) for n in ("ReLU", "Flatten", "Linear")):
        pytest.skip("ReLU/Flatten/Linear not available yet")
    t, e = build(torch.nn).double(), build(enn).double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = RNG.standard_normal((6, 1, 12, 12))
    y = RNG.standard_normal((6, 3))
    topt = torch.optim.SGD(t.parameters(), lr=0.1)
    eopt = ember.optim.SGD(e.parameters(), lr=0.1)
    for _ in range(3):
        tl = ((t(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        el = ((e(ember.tensor(x)) - ember.tensor(y)) ** 2).mean()
        np.testing.assert_allclose(el.item(), tl.item(), rtol=1e-10)
        for opt, loss in ((topt, tl), (eopt, el)):
            opt.zero_grad()
            loss.backward()
            opt.step()
