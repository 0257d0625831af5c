"""ember.autograd.Function: torch's custom-function API, checked against torch and gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.autograd.function import Function, once_differentiable

NO_TORCH = "torch is not installed; torch comparisons need it as the oracle"


def _torch():
    return pytest.importorskip("torch", reason=NO_TORCH)


def _module(kind: str):
    return ember if kind == "ember" else _torch()


def _fn_base(kind: str):
    if kind == "ember":
        return Function, once_differentiable
    t = _torch()
    from torch.autograd.function import once_differentiable as od

    return t.autograd.Function, od


# ------------------------------------------------------------------ the tutorial example
def _legendre_losses(torch, steps: int) -> list:
    """'Learning PyTorch with examples': a custom Function fitted to sin(x), unchanged."""
    base = torch.autograd.Function

    class LegendrePolynomial3(base):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for _ in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    assert y_pred.grad_fn.name() == "AddBackward0"
    return losses


def test_legendre_example_matches_torch():
    torch = _torch()
    ours = _legendre_losses(ember, 300)
    theirs = _legendre_losses(torch, 300)
    assert ours[-1] < ours[0] / 2  # it learns
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)


def test_legendre_node_name_and_edges():
    class LegendrePolynomial3(Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    x = ember.tensor([0.5, -1.0], requires_grad=True)
    y = LegendrePolynomial3.apply(x)
    assert y.grad_fn.name() == "LegendrePolynomial3Backward"
    assert y.grad_fn.next_functions[0][0] is x._edge[0]
    assert not y.is_leaf and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (5 * np.array([0.25, 1.0]) - 1), rtol=1e-6)


# ------------------------------------------------------------------ several inputs / outputs
def _defs(kind: str) -> dict:
    base, od = _fn_base(kind)
    torch = _module(kind)

    class MulAdd(base):
        """out1 = x * y * k, out2 = x + y (k a python number)."""

        @staticmethod
        def forward(ctx, x, y, k):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x * y * k, x + y

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * y * ctx.k + g2, g1 * x * ctx.k + g2, None

    class Cube(base):
        """out = x ** 3 with a backward written in tensor ops (twice differentiable)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    class NewStyle(base):
        """forward(*args) + setup_context: out = sin(x) * w."""

        @staticmethod
        def forward(x, w):
            return torch.sin(x) * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * torch.cos(x) * w, (g * torch.sin(x)).sum(0)

    class Once(base):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        @od
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            ctx.grad_was_enabled = torch.is_grad_enabled()
            return 2 * x * g

    return {"MulAdd": MulAdd, "Cube": Cube, "NewStyle": NewStyle, "Once": Once}


def _data(torch, dtype=None):
    rng = np.random.default_rng(0)
    dt = torch.float64 if dtype is None else dtype
    x = torch.tensor(rng.standard_normal((2, 3)), dtype=dt, requires_grad=True)
    y = torch.tensor(rng.standard_normal((2, 3)), dtype=dt, requires_grad=True)
    w = torch.tensor(rng.standard_normal(3), dtype=dt, requires_grad=True)
    return x, y, w


def _grads(kind: str, name: str) -> list:
    torch = _module(kind)
    f = _defs(kind)[name]
    x, y, w = _data(torch)
    if name == "MulAdd":
        a, b = f.apply(x, y, 2.5)
        assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
        ((a * a).sum() + (b * 3).sum()).backward()
        return [x.grad.numpy(), y.grad.numpy()]
    if name == "NewStyle":
        f.apply(x, w).pow(2).sum().backward()
        return [x.grad.numpy(), w.grad.numpy()]
    f.apply(x).sum().backward()
    return [x.grad.numpy()]


@pytest.mark.parametrize("name", ["MulAdd", "Cube", "NewStyle", "Once"])
def test_gradients_match_torch(name):
    _torch()
    for a, b in zip(_grads("ember", name), _grads("torch", name), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["MulAdd", "Cube", "NewStyle"])
def test_gradcheck_custom(name):
    f = _defs("ember")[name]
    x, y, w = _data(ember)
    if name == "MulAdd":
        assert ember.autograd.gradcheck(lambda a, b: f.apply(a, b, 1.5), (x, y))
    elif name == "NewStyle":
        assert ember.autograd.gradcheck(f.apply, (x, w))
    else:
        assert ember.autograd.gradcheck(f.apply, (x,))
        assert ember.autograd.gradgradcheck(f.apply, (x,))


def test_gradcheck_catches_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def _double(kind: str) -> list:
    torch = _module(kind)
    f = _defs(kind)["Cube"]
    x, _, _ = _data(torch)
    y = (f.apply(x) * x).sum()
    (gx,) = torch.autograd.grad(y, x, create_graph=True)
    assert gx.requires_grad
    (ggx,) = torch.autograd.grad((gx * gx).sum(), x)
    return [gx.detach().numpy(), ggx.numpy()]


def test_double_backward_matches_torch():
    _torch()
    for a, b in zip(_double("ember"), _double("torch"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_double_backward_values():
    f = _defs("ember")["Cube"]
    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(f.apply(x).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    np.testing.assert_allclose(gg.numpy(), [6.0, 12.0])


def _once_twice(kind: str) -> str:
    torch = _module(kind)
    f = _defs(kind)["Once"]
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = f.apply(x)
    (gx,) = torch.autograd.grad((y * x).sum(), x, create_graph=True)
    assert y.grad_fn.grad_was_enabled is False
    assert gx.requires_grad
    with pytest.raises(RuntimeError) as e:
        gx.sum().backward()
    return str(e.value)


def test_once_differentiable_double_backward_raises_like_torch():
    _torch()
    ours, theirs = _once_twice("ember"), _once_twice("torch")
    assert ours.startswith(theirs)
    assert "once_differentiable" in ours


# ------------------------------------------------------------------ ctx features
def _features(kind: str) -> dict:
    torch = _module(kind)
    base, _ = _fn_base(kind)
    rec: dict = {}

    class Dirty(base):
        @staticmethod
        def forward(ctx, x):
            rec["fwd_grad"] = torch.is_grad_enabled()
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class ArgMax(base):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(x, i)
            return x * 2, i

        @staticmethod
        def backward(ctx, gv, gi):
            rec["gi"] = (gi.dtype, gi.shape, gi.tolist())
            return gv * 2

    class Lazy(base):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            rec["lazy"] = (g1 is None, g2 is None)
            out = None
            for g, k in ((g1, 2), (g2, 3)):
                if g is not None:
                    out = g * k if out is None else out + g * k
            return out

    class Needs(base):
        @staticmethod
        def forward(ctx, x, y, k):
            rec["needs"] = ctx.needs_input_grad
            return x + y * k

        @staticmethod
        def backward(ctx, g):
            rec["needs_bw"] = ctx.needs_input_grad
            return g, None, None

    class Ident(base):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    class Bcast(base):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, g  # y has shape [3]: summed back like torch

    x0 = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    a = x0.clone()
    v0 = a._version
    b = Dirty.apply(a)
    rec["dirty"] = (b is a, a._version - v0, a.grad_fn.name(), a.is_leaf)
    b.sum().backward()
    rec["dirty_grad"] = x0.grad.tolist()

    x1 = torch.tensor([1.0, 3.0, 2.0], requires_grad=True)
    v, i = ArgMax.apply(x1)
    rec["nd"] = (v.requires_grad, i.requires_grad, i.grad_fn is None, v.output_nr)
    v.sum().backward()
    rec["nd_grad"] = x1.grad.tolist()

    x2 = torch.tensor([1.0, 2.0], requires_grad=True)
    p, q = Lazy.apply(x2)
    p.sum().backward()
    rec["lazy_grad"] = x2.grad.tolist()

    x3 = torch.tensor([1.0, 2.0], requires_grad=True)
    Needs.apply(x3, torch.ones(2), 3).sum().backward()

    x4 = torch.tensor([1.0, 2.0], requires_grad=True)
    o = Ident.apply(x4)
    rec["ident"] = (o is x4, o._base is x4, o.is_leaf, o.grad_fn.name())
    o.sum().backward()
    rec["ident_grad"] = x4.grad.tolist()

    x5 = torch.ones(2, 3, requires_grad=True)
    y5 = torch.ones(3, requires_grad=True)
    Bcast.apply(x5, y5).sum().backward()
    rec["bcast"] = (x5.grad.tolist(), y5.grad.tolist())

    with torch.no_grad():
        rec["no_grad"] = Bcast.apply(x5, y5).requires_grad
    rec["detached"] = Bcast.apply(x5.detach(), y5.detach()).requires_grad
    rec["gi"] = (str(rec["gi"][0]).split(".")[-1],) + rec["gi"][1:]
    return rec


def test_ctx_features_match_torch():
    _torch()
    ours, theirs = _features("ember"), _features("torch")
    assert ours == theirs
    assert ours["fwd_grad"] is False
    assert ours["dirty"][0] and ours["dirty"][1] >= 1
    assert ours["lazy"] == (False, True)
    assert ours["needs"] == (True, False, False)


def test_ctx_features_standalone():
    rec = _features("ember")
    assert rec["dirty_grad"] == [2.0, 2.0, 2.0]
    assert rec["nd"] == (True, False, True, 0)
    assert rec["gi"] == ("int64", (), 0)
    assert rec["ident"] == (False, True, False, "IdentBackward")
    assert rec["ident_grad"] == [5.0, 5.0]
    assert rec["bcast"] == ([[1.0] * 3] * 2, [2.0] * 3)
    assert rec["lazy_grad"] == [2.0, 2.0]
    assert rec["no_grad"] is False and rec["detached"] is False


# ------------------------------------------------------------------ saved tensors
def _saved(kind: str) -> list:
    torch = _module(kind)
    base, _ = _fn_base(kind)

    class Exp(base):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    msgs = []
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.saved_tensors[0].grad_fn is y.grad_fn
    y.sum().backward()
    for fn in (lambda: y.sum().backward(), lambda: y.grad_fn.saved_tensors):
        with pytest.raises(RuntimeError) as e:
            fn()
        msgs.append(str(e.value))
    y = Exp.apply(x)
    with torch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msgs.append(str(e.value).replace("torch.", "ember."))
    h = x.clone()
    y = Exp.apply(h * 1)
    z = _defs(kind)["Cube"].apply(h)
    with torch.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    msgs.append(str(e.value).replace("torch.", "ember."))
    return msgs


def test_saved_tensor_errors_match_torch():
    _torch()
    for ours, theirs in zip(_saved("ember"), _saved("torch"), strict=True):
        first = theirs.split(" Hint:")[0]
        assert ours.startswith(first), (ours, theirs)


# ------------------------------------------------------------------ validation errors
def _bad(kind: str, which: str) -> tuple:
    torch = _module(kind)
    base, _ = _fn_base(kind)
    rets = {
        "count": lambda g: (g,),
        "count_more": lambda g: (g, g, g),
        "shape": lambda g: (g.sum(0), None),
        "type": lambda g: (3.0, None),
        "nontensor": lambda g: (g, torch.ones(1)),
    }

    class MyFn(base):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return rets[which](g)

    x = torch.ones(2, 3, requires_grad=True)
    with pytest.raises(Exception) as e:
        MyFn.apply(x, 2.0).sum().backward()
    return type(e.value), str(e.value)


@pytest.mark.parametrize("which", ["count", "count_more", "shape", "type", "nontensor"])
def test_validation_errors_match_torch(which):
    _torch()
    (tc, tm), (ec, em) = _bad("torch", which), _bad("ember", which)
    assert ec is tc
    assert em.startswith(tm), (em, tm)


def test_validation_messages_pinned():
    assert _bad("ember", "count")[1].startswith(
        "function MyFnBackward returned an incorrect number of gradients (expected 2, got 1)"
    )
    assert _bad("ember", "shape")[1].startswith(
        "Function MyFnBackward returned an invalid gradient at index 0 - got [3] but expected "
        "shape compatible with [2, 3]"
    )
    assert "not a Variable" in _bad("ember", "nontensor")[1]


def test_dirty_leaf_raises_like_torch():
    class Dirty(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used"):
        Dirty.apply(x)


def test_grad_dtype_cast_to_input():
    class ToDouble(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2).double()

    x = ember.ones(2, requires_grad=True)
    ToDouble.apply(x).sum().backward()
    assert x.grad.dtype == ember.float32
    assert x.grad.tolist() == [2.0, 2.0]
