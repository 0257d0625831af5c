"""nn layers: activations, Linear/Bilinear, Dropout, Embedding, Flatten, pad & co., nn.init.

torch comparisons copy weights across and compare outputs, all gradients, node names and reprs
(skipped without torch); the torch-free checks use hand values, finite differences
(``ember.autograd.gradcheck``/``gradgradcheck``) and seeded statistics.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

TORCH_REASON = "torch is the oracle for these comparisons and is not installed"
RNG = np.random.default_rng(1234)
TOL = {"float32": 2e-5, "float64": 1e-10}


def _torch():
    return pytest.importorskip("torch", reason=TORCH_REASON)


def _pair(torch, arr, dtype, grad=True):
    t = torch.tensor(arr, dtype=getattr(torch, dtype), requires_grad=grad)
    e = ember.tensor(arr, dtype=getattr(ember, dtype), requires_grad=grad)
    return t, e


def _close(e, t, tol, what=""):
    a = e.detach().numpy() if hasattr(e, "detach") else np.asarray(e)
    b = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


# x avoids the kinks (0, +-3, thresholds) so that every function is smooth at the test points
X = RNG.standard_normal((4, 6)) * 2.5
X[0, :4] = [0.31, -2.9, 2.9, 25.0]

ACTS = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.5}),
    ("selu", {}), ("celu", {"alpha": 0.7}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("sigmoid", {}), ("tanh", {}),
    ("softplus", {"beta": 2, "threshold": 3}), ("softplus", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 1.5}), ("hardsigmoid", {}), ("hardswish", {}),
    ("logsigmoid", {}), ("threshold", {"threshold": 0.5, "value": -1.0}), ("glu", {"dim": 1}),
    ("softsign", {}), ("tanhshrink", {}), ("hardshrink", {"lambd": 1.0}),
    ("softshrink", {"lambd": 1.0}), ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}),
    ("softmin", {"dim": 1}), ("rrelu", {}),
]
SMOOTH = {"elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus",
          "logsigmoid", "glu", "softsign", "tanhshrink", "softmax", "log_softmax", "softmin",
          "hardswish"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ACTS)])
def test_activation_matches_torch(name, kw, dtype) -> None:
    torch = _torch()
    tf = torch.nn.functional
    tx, ex = _pair(torch, X, dtype)
    to, eo = getattr(tf, name)(tx, **kw), getattr(F, name)(ex, **kw)
    tol = TOL[dtype] * (100 if name == "celu" else 1)  # torch's celu backward rounds 1/alpha
    _close(eo, to, tol, "forward")
    assert eo.dtype == getattr(ember, dtype)
    assert eo.grad_fn.name() == to.grad_fn.name()
    gout = RNG.standard_normal(to.shape)
    (tg,) = torch.autograd.grad(to, tx, torch.tensor(gout, dtype=tx.dtype), create_graph=True)
    (eg,) = ember.autograd.grad(eo, ex, ember.tensor(gout, dtype=ex.dtype), create_graph=True)
    _close(eg, tg, tol, "grad")
    if name in SMOOTH and dtype == "float64":  # double backward
        (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
        (egg,) = ember.autograd.grad((eg * eg).sum(), ex)
        _close(egg, tgg, 1e-6 if name == "celu" else 1e-9, "double backward")


@pytest.mark.parametrize("name,kw", [
    ("hardswish", {}), ("hardsigmoid", {}), ("hardtanh", {}), ("relu6", {}), ("leaky_relu", {}),
    ("threshold", {"threshold": 3.0, "value": 0.0}), ("elu", {}), ("hardshrink", {"lambd": 3.0}),
    ("softshrink", {"lambd": 3.0}), ("softplus", {"threshold": 3.0}),
])
def test_activation_gradient_at_kinks(name, kw) -> None:
    torch = _torch()
    x = np.array([0.0, -3.0, 3.0, -1.0, 1.0, 6.0, -6.0, 1.5])
    tx, ex = _pair(torch, x, "float64")
    to, eo = getattr(torch.nn.functional, name)(tx, **kw), getattr(F, name)(ex, **kw)
    to.sum().backward()
    eo.sum().backward()
    _close(ex.grad, tx.grad, 1e-12, name)


def test_activations_torch_free() -> None:
    x = ember.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=ember.float64)
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).numpy(), [-0.2, -0.05, 0, 0.5, 2])
    np.testing.assert_allclose(F.relu6(x * 4).numpy(), [0, 0, 0, 2, 6])
    np.testing.assert_allclose(F.hardtanh(x).numpy(), [-1, -0.5, 0, 0.5, 1])
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.numpy()])
    np.testing.assert_allclose(F.gelu(x).numpy(), x.numpy() * phi, rtol=1e-14)
    np.testing.assert_allclose(F.softplus(x).numpy(), np.log1p(np.exp(x.numpy())), rtol=1e-14)
    np.testing.assert_allclose(F.elu(x).numpy(), np.where(x.numpy() > 0, x.numpy(),
                                                          np.expm1(x.numpy())), rtol=1e-14)
    p = F.softmax(ember.tensor([[1.0, 2.0, 3.0]]), dim=1).numpy()
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-6)
    xs = ember.tensor(RNG.standard_normal((3, 4)) + 0.05, dtype=ember.float64, requires_grad=True)
    for fn in (F.gelu, lambda t: F.gelu(t, approximate="tanh"), F.silu, F.mish, F.elu, F.selu,
               F.softplus, F.logsigmoid, lambda t: F.glu(t, 1), F.softsign, F.hardswish,
               lambda t: F.celu(t, 0.5), lambda t: F.leaky_relu(t, 0.3)):
        assert gradcheck(fn, (xs,))
    for fn in (F.gelu, F.silu, F.mish, F.elu, F.softplus, F.logsigmoid, lambda t: F.glu(t, 1)):
        assert gradgradcheck(fn, (xs,))


def test_activation_errors_and_dtypes() -> None:
    with pytest.raises(NotImplementedError, match="\"GeluKernelImpl\" not implemented for 'Long'"):
        F.gelu(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(ember.randn(3), approximate="foo")
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is"):
        F.glu(ember.randn(3, 3))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel"):
        F.prelu(ember.randn(2, 3), ember.randn(2))
    assert F.relu6(ember.tensor([1, -2, 9])).tolist() == [1, 0, 6]
    h = ember.randn(4).half()
    assert F.gelu(h).dtype == ember.float16 and F.silu(h).dtype == ember.float16
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = F.softmax(ember.randn(2, 3))
    np.testing.assert_allclose(out.sum(1).numpy(), [1, 1], rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "hardtanh", "silu", "relu6",
                                  "hardswish", "mish", "selu", "celu"])
def test_inplace_activations(name) -> None:
    torch = _torch()
    tx, ex = _pair(torch, X, "float64")
    ty, ey = tx * 1.5, ex * 1.5
    to = getattr(torch.nn.functional, name)(ty, inplace=True)
    eo = getattr(F, name)(ey, inplace=True)
    assert eo is ey and to is ty
    _close(ey, ty, 1e-12)
    to.sum().backward()
    eo.sum().backward()
    _close(ex.grad, tx.grad, 1e-12)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.leaky_relu(ex, inplace=True)


MODULES = [
    "ReLU()", "ReLU(inplace=True)", "ReLU6()", "ReLU6(True)", "LeakyReLU()", "LeakyReLU(0.2, True)",
    "ELU()", "ELU(alpha=0.5, inplace=True)", "SELU()", "SELU(True)", "CELU(2.0)", "GELU()",
    "GELU('tanh')", "SiLU()", "SiLU(inplace=True)", "Mish()", "Sigmoid()", "Tanh()",
    "Softmax(dim=1)", "Softmax()", "LogSoftmax(dim=-1)", "Softmin(1)", "Softplus()",
    "Softplus(2, 10)", "Hardtanh()", "Hardtanh(-2, 2, True)", "Hardsigmoid()",
    "Hardswish(True)", "LogSigmoid()", "Threshold(0.1, 20)", "Threshold(0.1, 20.0, True)",
    "PReLU()", "PReLU(3)", "GLU()", "GLU(0)", "Softsign()", "Tanhshrink()", "Hardshrink()",
    "Softshrink(0.3)", "RReLU()", "Softmax2d()", "Identity()", "Flatten()", "Flatten(0, -1)",
    "Unflatten(1, (2, 5))", "Unflatten(-1, [2, 2])", "Dropout()", "Dropout(0.2, True)",
    "Dropout1d()", "Dropout2d(0.1)", "Dropout3d()", "AlphaDropout(0.2)",
    "FeatureAlphaDropout()", "Linear(3, 4)", "Linear(3, 4, bias=False)", "Bilinear(2, 3, 4)",
    "Embedding(10, 3)", "Embedding(10, 3, padding_idx=-1)",
    "Embedding(10, 3, padding_idx=0, max_norm=1.0, scale_grad_by_freq=True, sparse=True)",
    "Embedding(10, 3, max_norm=2.0, norm_type=1.0)",
]


@pytest.mark.parametrize("expr", MODULES)
def test_module_repr_and_state_keys(expr) -> None:
    torch = _torch()
    t = eval("torch.nn." + expr, {"torch": torch})
    e = eval("nn." + expr, {"nn": nn})
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert tuple(e.state_dict()[k].shape) == tuple(v.shape)
        assert e.state_dict()[k].dtype == ember.float32


def test_module_forwards_match_torch() -> None:
    torch = _torch()
    x = RNG.standard_normal((2, 4, 3, 3))
    for expr in ["PReLU(4)", "PReLU()", "Softmax2d()", "GELU('tanh')", "Softmax(dim=1)",
                 "LogSoftmax(1)", "Flatten()", "Flatten(1, 2)", "Unflatten(1, (2, 2))",
                 "RReLU()"]:
        t = eval("torch.nn." + expr, {"torch": torch}).double()
        e = eval("nn." + expr, {"nn": nn}).double()
        if expr.startswith("RReLU"):
            t.eval()
            e.eval()
        e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
        tx, ex = _pair(torch, x, "float64")
        to, eo = t(tx), e(ex)
        _close(eo, to, 1e-12, expr)
        g = RNG.standard_normal(to.shape)
        to.backward(torch.tensor(g))
        eo.backward(ember.tensor(g))
        _close(ex.grad, tx.grad, 1e-12, expr)
        for (n, tp), (_, ep) in zip(t.named_parameters(), e.named_parameters(), strict=True):
            _close(ep.grad, tp.grad, 1e-12, f"{expr} {n}")


# ------------------------------------------------------------------------------ linear
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (2, 1, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(dtype, shape, bias) -> None:
    torch = _torch()
    t = torch.nn.Linear(3, 4, bias=bias).to(getattr(torch, dtype))
    e = nn.Linear(3, 4, bias=bias, dtype=getattr(ember, dtype))
    assert e.weight.dtype == getattr(ember, dtype)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    tx, ex = _pair(torch, RNG.standard_normal(shape), dtype)
    to, eo = t(tx), e(ex)
    _close(eo, to, TOL[dtype])
    assert eo.grad_fn.name() == to.grad_fn.name()
    g = RNG.standard_normal(to.shape)
    to.backward(torch.tensor(g, dtype=to.dtype))
    eo.backward(ember.tensor(g, dtype=eo.dtype))
    _close(ex.grad, tx.grad, TOL[dtype])
    _close(e.weight.grad, t.weight.grad, TOL[dtype])
    if bias:
        _close(e.bias.grad, t.bias.grad, TOL[dtype])


def test_linear_double_backward_and_gradcheck() -> None:
    x = ember.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    b = ember.tensor(RNG.standard_normal(2), requires_grad=True)
    x3 = ember.tensor(RNG.standard_normal((2, 2, 3)), requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradcheck(F.linear, (x3, w))
    assert gradgradcheck(lambda a, c, d: F.linear(a, c, d) ** 2, (x, w, b))
    assert gradgradcheck(lambda a, c: F.linear(a, c).tanh(), (x3, w))
    # hand values
    y = F.linear(ember.tensor([[1.0, 2.0]]), ember.tensor([[1.0, 1.0], [0.0, 2.0]]),
                 ember.tensor([0.5, -1.0]))
    assert y.tolist() == [[3.5, 3.0]]


def test_linear_init_distribution() -> None:
    ember.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(b).max() <= bound and b.std() > 0.4 * bound
    assert lin.weight.requires_grad and lin.weight.is_leaf and lin.weight.grad_fn is None
    ember.manual_seed(0)
    assert np.array_equal(nn.Linear(400, 300).weight.detach().numpy(), w)  # seeded


def test_linear_errors_name_layer() -> None:
    lin = nn.Linear(784, 10)
    with pytest.raises(RuntimeError) as ei:
        lin(ember.randn(32, 100))
    msg = str(ei.value)
    assert msg.startswith("mat1 and mat2 shapes cannot be multiplied (32x100 and 784x10)")
    assert "Linear(in_features=784, out_features=10, bias=True)" in msg and "Hint:" in msg
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Long and Float"):
        lin(ember.ones(2, 784, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        lin(ember.ones(2, 784, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but "
                                           "got: double != float"):
        F.linear(ember.ones(2, 3, dtype=ember.float64), ember.ones(4, 3))
    with pytest.raises(RuntimeError, match="both arguments to linear need to be at least 1D"):
        F.linear(ember.tensor(1.0), ember.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"\(1x5 and 3x4\)"):
        F.linear(ember.ones(5), ember.ones(4, 3))


def test_bilinear_matches_torch() -> None:
    torch = _torch()
    t = torch.nn.Bilinear(3, 2, 4).double()
    e = nn.Bilinear(3, 2, 4).double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    t1, e1 = _pair(torch, RNG.standard_normal((5, 3)), "float64")
    t2, e2 = _pair(torch, RNG.standard_normal((5, 2)), "float64")
    to, eo = t(t1, t2), e(e1, e2)
    _close(eo, to, 1e-12)
    to.sum().backward()
    eo.sum().backward()
    for a, b in ((e1.grad, t1.grad), (e2.grad, t2.grad), (e.weight.grad, t.weight.grad),
                 (e.bias.grad, t.bias.grad)):
        _close(a, b, 1e-12)


def test_mlp_training_matches_torch() -> None:
    torch = _torch()
    tm = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.GELU(), torch.nn.Linear(16, 8),
                             torch.nn.LeakyReLU(0.1), torch.nn.Dropout(0.0),
                             torch.nn.Linear(8, 1)).double()
    em = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 8), nn.LeakyReLU(0.1),
                       nn.Dropout(0.0), nn.Linear(8, 1)).double()
    assert repr(em) == repr(tm)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    xs, ys = RNG.standard_normal((32, 6)), RNG.standard_normal((32, 1))
    topt = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9)
    eopt = ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9)
    for _ in range(20):
        tl = ((tm(torch.tensor(xs)) - torch.tensor(ys)) ** 2).mean()
        el = ((em(ember.tensor(xs)) - ember.tensor(ys)) ** 2).mean()
        assert abs(tl.item() - el.item()) < 1e-10 * max(1.0, abs(tl.item()))
        topt.zero_grad()
        eopt.zero_grad()
        tl.backward()
        el.backward()
        topt.step()
        eopt.step()


# ------------------------------------------------------------------------------ dropout
def test_dropout_behaviour() -> None:
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    d = y.detach().numpy()
    np.testing.assert_allclose(np.unique(d), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((d == 0).mean() - 0.3) < 0.01
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d)  # grad = mask / (1 - p)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).abs().sum().item() == 0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(-0.1)
    m = nn.Dropout(0.5)
    m.eval()
    assert m(x) is x
    m.train()
    assert (m(x).detach().numpy() == 0).any()
    ember.manual_seed(3)
    a = F.dropout(x, 0.5).detach().numpy()
    ember.manual_seed(3)
    assert np.array_equal(a, F.dropout(x, 0.5).detach().numpy())
    z = x * 1.0
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z


def test_feature_dropout() -> None:
    ember.manual_seed(1)
    x = ember.ones(16, 32, 5, 5)
    y = F.dropout2d(x, 0.5).numpy()
    per_chan = y.reshape(16, 32, -1)
    assert np.all(per_chan.min(-1) == per_chan.max(-1))  # whole channels kept or dropped
    assert set(np.unique(per_chan)) == {0.0, 2.0}
    y1 = F.dropout1d(ember.ones(8, 10, 7), 0.5).numpy()
    assert np.all(y1.min(-1) == y1.max(-1))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a"):
        F.dropout1d(ember.ones(3), 0.5)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(ember.ones(2, 3, 4), 0.5)
    assert nn.Dropout2d(0.5).eval()(x) is x


def test_alpha_dropout_keeps_moments() -> None:
    ember.manual_seed(2)
    x = ember.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False in the functional form
    assert nn.AlphaDropout(0.2)(x).grad_fn is None


# ------------------------------------------------------------------------------ embedding
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True, "padding_idx": 0},
                                {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}])
def test_embedding_matches_torch(kw) -> None:
    torch = _torch()
    t = torch.nn.Embedding(10, 4, **kw).double()
    e = nn.Embedding(10, 4, **kw).double()
    assert repr(e) == repr(t)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    idx = np.array([[0, 2, 2, 9], [3, 2, 0, 1]])
    to, eo = t(torch.tensor(idx)), e(ember.tensor(idx))
    _close(eo, to, 1e-12)
    _close(e.weight, t.weight, 1e-7)  # max_norm renormalises rows in place
    assert eo.grad_fn.name() == to.grad_fn.name()
    g = RNG.standard_normal(to.shape)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    _close(e.weight.grad, t.weight.grad, 1e-12)


def test_embedding_defaults_and_errors() -> None:
    ember.manual_seed(0)
    e = nn.Embedding(1000, 50, padding_idx=3)
    w = e.weight.detach().numpy()
    assert np.all(w[3] == 0)
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02
    e(ember.tensor([3, 4])).sum().backward()
    assert np.all(e.weight.grad.numpy()[3] == 0) and np.all(e.weight.grad.numpy()[4] == 1)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one"):
        e(ember.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match="index out of range in self") as ei:
        e(ember.tensor([1, 1000]))
    assert "Embedding(1000, 50, padding_idx=3)" in str(ei.value)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    pre = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    fe = nn.Embedding.from_pretrained(pre)
    assert not fe.weight.requires_grad and fe(ember.tensor([1])).tolist() == [[3.0, 4.0]]
    assert nn.Embedding.from_pretrained(pre, freeze=False).weight.requires_grad
    x = ember.tensor(RNG.standard_normal((6, 3)), requires_grad=True)
    assert gradcheck(lambda w: F.embedding(ember.tensor([[0, 5], [5, 2]]), w), (x,))
    assert gradgradcheck(lambda w: F.embedding(ember.tensor([0, 5, 5]), w, padding_idx=0) ** 2,
                         (x,))


def test_one_hot() -> None:
    r = F.one_hot(ember.tensor([0, 2, 1]))
    assert r.dtype == ember.int64 and r.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(ember.tensor([[1]]), 4).shape == (1, 1, 4)
    assert F.one_hot(ember.tensor([], dtype=ember.int64), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(ember.tensor([1, 2], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([1, 5]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(ember.tensor([-1]))


# ------------------------------------------------------------------------------ pad & co.
PADS = [
    ((2, 3), (1, 2), "constant", {}), ((2, 3, 4), (1, 1, 2, 0), "constant", {"value": 1.5}),
    ((2, 5), (-1, 2), "constant", {}), ((2, 3, 4), (2, 1), "reflect", {}),
    ((1, 2, 4, 5), (1, 2, 3, 1), "reflect", {}), ((2, 3, 4), (3, 1), "replicate", {}),
    ((1, 2, 3, 3), (2, 2, 1, 0), "replicate", {}), ((2, 3, 4), (2, 1), "circular", {}),
    ((1, 1, 3, 3, 3), (1, 1, 1, 1, 1, 1), "replicate", {}),
]


@pytest.mark.parametrize("shape,pad,mode,kw", PADS)
def test_pad_matches_torch(shape, pad, mode, kw) -> None:
    torch = _torch()
    tx, ex = _pair(torch, RNG.standard_normal(shape), "float64")
    to = torch.nn.functional.pad(tx, pad, mode=mode, **kw)
    eo = F.pad(ex, pad, mode=mode, **kw)
    _close(eo, to, 1e-14)
    if mode != "circular":
        assert eo.grad_fn.name() == to.grad_fn.name()
    g = RNG.standard_normal(to.shape)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    _close(ex.grad, tx.grad, 1e-12)


def test_pad_torch_free() -> None:
    x = ember.tensor([[1.0, 2.0, 3.0]], dtype=ember.float64, requires_grad=True)
    assert F.pad(x, (1, 2)).tolist() == [[0, 1, 2, 3, 0, 0]]
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[3, 2, 1, 2, 3, 2]]
    assert F.pad(x, (1, 1), mode="replicate").tolist() == [[1, 1, 2, 3, 3]]
    assert F.pad(x, (1, 1), mode="circular").tolist() == [[3, 1, 2, 3, 1]]
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert gradcheck(lambda t, m=mode: F.pad(t.unsqueeze(0), (2, 1), mode=m), (x,))
        assert gradgradcheck(lambda t, m=mode: F.pad(t.unsqueeze(0), (2, 1), mode=m) ** 2, (x,))
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding"):
        F.pad(x.unsqueeze(0), (3, 3), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")


def test_normalize_and_distances_match_torch() -> None:
    torch = _torch()
    a, b = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 4))
    a[0] = 0.0  # a zero row: the eps clamps
    for name, kw in [("normalize", {}), ("normalize", {"p": 1.0, "dim": 0}),
                     ("cosine_similarity", {}), ("cosine_similarity", {"dim": 0}),
                     ("pairwise_distance", {}), ("pairwise_distance", {"p": 1.0, "keepdim": True})]:
        ta, ea = _pair(torch, a, "float64")
        tb, eb = _pair(torch, b, "float64")
        args_t = (ta,) if name == "normalize" else (ta, tb)
        args_e = (ea,) if name == "normalize" else (ea, eb)
        to = getattr(torch.nn.functional, name)(*args_t, **kw)
        eo = getattr(F, name)(*args_e, **kw)
        _close(eo, to, 1e-12, name)
        if name != "pairwise_distance":  # ember's Tensor.norm names its node LinalgVectorNorm...
            assert eo.grad_fn.name() == to.grad_fn.name(), name
        g = RNG.standard_normal(to.shape)
        to.backward(torch.tensor(g))
        eo.backward(ember.tensor(g))
        _close(ea.grad, ta.grad, 1e-10, name)
        if name != "normalize":
            _close(eb.grad, tb.grad, 1e-10, name)


def test_cosine_similarity_hand_values() -> None:
    a = ember.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = ember.tensor([[0.0, 1.0], [2.0, 2.0]])
    np.testing.assert_allclose(F.cosine_similarity(a, b).numpy(), [0.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(F.normalize(b).numpy()[1], [2**-0.5, 2**-0.5], rtol=1e-6)


def test_flatten_unflatten() -> None:
    x = ember.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Identity(54, unused="x")(x) is x
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 3)


# ------------------------------------------------------------------------------ init
def test_calculate_gain_and_fans() -> None:
    init = nn.init
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    assert init._calculate_fan_in_and_fan_out(ember.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def _std(t):
    return float(t.detach().numpy().std())


def test_init_distributions() -> None:
    init = nn.init
    ember.manual_seed(0)
    w = ember.empty(300, 200, requires_grad=True)
    assert init.kaiming_uniform_(w, a=math.sqrt(5)) is w  # in place on a leaf, under no_grad
    assert w.grad_fn is None and w.requires_grad
    bound = math.sqrt(6 / ((1 + 5) * 200))
    assert np.abs(w.detach().numpy()).max() <= bound
    assert abs(_std(w) - bound / math.sqrt(3)) < 0.03 * bound
    assert abs(_std(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"))
               - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    assert abs(_std(init.xavier_uniform_(w, gain=2.0)) - 2 * math.sqrt(2 / 500)) < 0.003
    assert abs(_std(init.xavier_normal_(w)) - math.sqrt(2 / 500)) < 0.002
    assert abs(_std(init.normal_(w, 1.0, 0.5)) - 0.5) < 0.01
    assert abs(w.detach().numpy().mean() - 1.0) < 0.01
    u = init.uniform_(w, -2, 3).detach().numpy()
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.03
    t = init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=1.0).detach().numpy()
    assert t.min() >= -1 and t.max() <= 1 and t.std() > 0.4
    t = init.trunc_normal_(w, std=0.02).detach().numpy()
    assert np.abs(t).max() <= 2 and abs(t.std() - 0.02) < 0.001
    t = init.trunc_normal_(w, mean=0.0, std=1.0, a=2.0, b=3.0).detach().numpy()  # tail: inverse cdf
    assert t.min() >= 2 and t.max() <= 3 and t.mean() < 2.5
    assert init.constant_(w, 0.3).detach().numpy().max() == np.float32(0.3)
    assert init.ones_(w).detach().numpy().min() == 1 and init.zeros_(w).detach().numpy().max() == 0
    ember.manual_seed(5)
    a = init.normal_(ember.empty(3, 3)).numpy()
    ember.manual_seed(5)
    assert np.array_equal(a, init.normal_(ember.empty(3, 3)).numpy())
    g = ember.Generator().manual_seed(7)
    b = init.uniform_(ember.empty(4), generator=g).numpy()
    g.manual_seed(7)
    assert np.array_equal(b, init.uniform_(ember.empty(4), generator=g).numpy())


def test_init_structured() -> None:
    init = nn.init
    q = init.orthogonal_(ember.empty(6, 10), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(6), atol=1e-5)
    q = init.orthogonal_(ember.empty(10, 2, 2, dtype=ember.float64)).numpy().reshape(10, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-12)
    assert init.eye_(ember.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    s = init.sparse_(ember.empty(10, 6), sparsity=0.3).numpy()
    assert np.all((s == 0).sum(0) >= 3)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(ember.empty(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="Initializing zero-element tensors is a no-op"):
            init.kaiming_uniform_(ember.empty(0, 3))


def test_dirac_and_eye_match_torch() -> None:
    torch = _torch()
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 1, 3, 3), 1)):
        t = torch.nn.init.dirac_(torch.empty(shape), groups)
        e = nn.init.dirac_(ember.empty(shape), groups)
        assert np.array_equal(e.numpy(), t.numpy())
    assert np.array_equal(nn.init.eye_(ember.empty(3, 5)).numpy(),
                          torch.nn.init.eye_(torch.empty(3, 5)).numpy())
